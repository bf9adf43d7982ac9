// The input is the query string of a request to the callback (or login)
// location: `code=..&state=..&error=..&return_to=..`. Each value is
// percent-decoded as the module does; raw `return_to` values go through the
// open-redirect guard; `state` is compared with the state of a login
// transaction opened from a fixed login cookie, and a matching callback
// builds the code-exchange body. `origin` and `host` fields go to
// origin_matches_request.
#include "fuzz_common.hpp"

#include "spotauth/oauth.hpp"
#include "spotauth/url.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t kMaxReturnTo = 2048;

std::vector<std::pair<std::string_view, std::string_view>> split_query(std::string_view query) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    std::size_t start = 0;
    while (start <= query.size()) {
        std::size_t end = query.find('&', start);
        if (end == std::string_view::npos) {
            end = query.size();
        }
        const std::string_view field = query.substr(start, end - start);
        const std::size_t eq = field.find('=');
        if (eq == std::string_view::npos) {
            out.emplace_back(field, std::string_view());
        } else {
            out.emplace_back(field.substr(0, eq), field.substr(eq + 1));
        }
        start = end + 1;
    }
    return out;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

void check_return_to(std::string_view raw) {
    const std::string safe = spotauth::safe_return_to(raw);
    FUZZ_CHECK(!safe.empty() && safe[0] == '/');
    FUZZ_CHECK(safe.size() < 2 || (safe[1] != '/' && safe[1] != '\\'));
    FUZZ_CHECK(safe.size() <= 3 * kMaxReturnTo);
    for (std::size_t i = 0; i < safe.size(); ++i) {
        const auto c = static_cast<unsigned char>(safe[i]);
        FUZZ_CHECK(c > 0x20 && c < 0x7F && c != '\\');
    }
    // The guard is stable: a path it let through stays as it is.
    if (safe.find('%') == std::string::npos && safe.find('+') == std::string::npos) {
        FUZZ_CHECK(spotauth::safe_return_to(safe) == safe);
    }
}

void check_decode(std::string_view raw, const std::optional<std::string>& decoded, bool plus) {
    if (!decoded) {
        // Only a malformed escape is refused.
        bool malformed = false;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '%' && (i + 2 >= raw.size() || !is_hex(raw[i + 1]) || !is_hex(raw[i + 2]))) {
                malformed = true;
            }
            if (raw[i] == '%' && !malformed) {
                i += 2;
            }
        }
        FUZZ_CHECK(malformed);
        return;
    }
    FUZZ_CHECK(decoded->size() <= raw.size());
    // Escaping and decoding again gives the same bytes.
    const auto round_trip = spotauth::percent_decode(spotauth::percent_encode(*decoded), plus);
    FUZZ_CHECK(round_trip && *round_trip == *decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view query(reinterpret_cast<const char*>(data), size);
    static const auto login = spotauth::open_login(fuzz::ring(), fuzz::login_cookie(), fuzz::kNow);
    FUZZ_CHECK(login.has_value());

    std::string code;
    std::string state;
    std::string error;
    std::string_view origin;
    std::string_view host;
    bool state_seen = false;
    for (const auto& [name, raw] : split_query(query)) {
        const auto decoded = spotauth::percent_decode(raw, true);
        check_decode(raw, decoded, true);
        check_decode(raw, spotauth::percent_decode(raw, false), false);
        if (name == "return_to") {
            check_return_to(raw);
        } else if (name == "state" && decoded) {
            state = *decoded;
            state_seen = true;
        } else if (name == "code" && decoded) {
            code = *decoded;
        } else if (name == "error" && decoded) {
            error = *decoded;
        } else if (name == "origin") {
            origin = raw;
        } else if (name == "host") {
            host = raw;
        }
    }
    // The CSRF check of the module's POST endpoints (Origin against Host).
    for (const bool is_https : {false, true}) {
        if (spotauth::origin_matches_request(origin, host, is_https)) {
            FUZZ_CHECK(!host.empty());
            FUZZ_CHECK(!spotauth::origin_matches_request(origin, host, !is_https));
        }
    }
    // Everything the input holds is a candidate return_to too.
    check_return_to(query);

    const bool matches = spotauth::constant_time_equal(state, login->state);
    FUZZ_CHECK(matches == (state == login->state));
    FUZZ_CHECK(!matches || state_seen);
    FUZZ_CHECK(spotauth::constant_time_equal(state, state));

    if (matches && error.empty() && !code.empty()) {
        // The code-exchange body carries exactly the code and verifier sent.
        spotauth::ClientConfig client;
        client.client_id = "client";
        client.redirect_uri = "https://app.example/callback";
        const std::string body = spotauth::code_exchange_body(client, code, login->code_verifier);
        std::string seen_code;
        std::string seen_verifier;
        for (const auto& [name, raw] : split_query(body)) {
            const auto value = spotauth::percent_decode(raw, false);
            FUZZ_CHECK(value.has_value());
            if (name == "code") {
                seen_code = *value;
            } else if (name == "code_verifier") {
                seen_verifier = *value;
            }
        }
        FUZZ_CHECK(seen_code == code);
        FUZZ_CHECK(seen_verifier == login->code_verifier);
    }
    return 0;
}
