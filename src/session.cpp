#include "spotauth/session.hpp"

#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"

#include "spotauth/provider_text.hpp"

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <array>
#include <cstdint>

namespace spotauth {
namespace {

using json = nlohmann::json;

// `typ` keeps one kind of cookie from being accepted as the other.
constexpr std::string_view kSessionType = "session";
constexpr std::string_view kLoginType = "login";

bool clean_provider_text(Session& s) {
    const auto id = exact_user_id(s.user_id);
    if (!id || !is_token_text(s.access_token) || (!s.refresh_token.empty() && !is_token_text(s.refresh_token))) {
        return false;
    }
    s.user_id = *id;
    s.display_name = clean_display_name(s.display_name);
    s.product = clean_profile_word(s.product);
    s.country = clean_profile_word(s.country);
    return true;
}

// Opening a cookie parses its claims with simdjson into a DOM that the
// thread's parser keeps (no allocation once it has grown to a cookie's
// size); nlohmann's lexer, which appends strings a character at a time,
// was two thirds of open_session (bench/PROFILE.md). Sealing keeps nlohmann.
simdjson::dom::parser& claims_parser() {
    thread_local simdjson::dom::parser parser;
    return parser;
}

// The thread's decrypted claims, kept from cookie to cookie like the parser
// (the parser copies what it keeps, so the text is needed only while
// parsing). Like the parser's own buffers, it holds the last cookie's claims
// until the next one: no secret there that the worker's sessions do not hold.
KeyRing::Opened& claims_text() {
    thread_local KeyRing::Opened opened;
    return opened;
}

// One claim read from the object; when a name repeats, the last one wins
// (as in the nlohmann DOM before).
struct Claim {
    std::string_view name;
    std::optional<simdjson::dom::element> value;
};

template <std::size_t N>
void find_claims(simdjson::dom::object object, std::array<Claim, N>& claims) {
    for (const simdjson::dom::key_value_pair field : object) {
        for (Claim& claim : claims) {
            if (field.key == claim.name) {
                claim.value = field.value;
                break;
            }
        }
    }
}

bool read_string(const Claim& claim, std::string& out) {
    std::string_view value;
    if (!claim.value || claim.value->get_string().get(value) != simdjson::SUCCESS) {
        return false;
    }
    out.assign(value);
    return true;
}

// Any integer: one above INT64_MAX wraps, as nlohmann's get<int64_t> did.
bool read_time(const Claim& claim, UnixTime& out) {
    if (!claim.value) {
        return false;
    }
    std::int64_t signed_value = 0;
    std::uint64_t unsigned_value = 0;
    if (claim.value->get_int64().get(signed_value) == simdjson::SUCCESS) {
        out = signed_value;
    } else if (claim.value->get_uint64().get(unsigned_value) == simdjson::SUCCESS) {
        out = static_cast<UnixTime>(unsigned_value);
    } else {
        return false;
    }
    return true;
}

// The claims of an authentic cookie of kind `type` (its "typ", the claim
// at index 0), read into `claims`; false otherwise.
template <std::size_t N>
bool open_claims(const KeyRing& keys, std::string_view cookie, std::string_view type, std::array<Claim, N>& claims,
                 bool& current_key) {
    KeyRing::Opened& opened = claims_text();
    if (!keys.open(cookie, opened, simdjson::SIMDJSON_PADDING)) {
        return false;
    }
    simdjson::dom::object object;
    if (claims_parser().parse(opened.plaintext).get(object) != simdjson::SUCCESS) {
        return false;
    }
    find_claims(object, claims);
    std::string_view actual_type;
    if (!claims[0].value || claims[0].value->get_string().get(actual_type) != simdjson::SUCCESS ||
        actual_type != type) {
        return false;
    }
    current_key = opened.current_key;
    return true;
}

}  // namespace

std::optional<std::string> seal_session(const KeyRing& keys, const Session& s) {
    json claims = {
        {"typ", kSessionType},
        {"sub", s.user_id},
        {"name", s.display_name},
        {"access_token", s.access_token},
        {"refresh_token", s.refresh_token},
        {"access_expires_at", s.access_expires_at},
        {"access_issued_at", s.access_issued_at},
        {"iat", s.issued_at},
        {"exp", s.expires_at},
    };
    if (!s.sid.empty()) {
        claims["sid"] = s.sid;
    }
    // Optional: only what the provider told (no claim for unknown).
    if (!s.product.empty()) {
        claims["product"] = s.product;
    }
    if (!s.country.empty()) {
        claims["country"] = s.country;
    }
    return keys.seal(claims.dump());
}

std::string new_session_id() {
    const auto bytes = random_bytes(16);
    return bytes ? base64url_encode(*bytes) : std::string();
}

OpenedSession open_session(const KeyRing& keys, std::string_view cookie, UnixTime now) {
    if (cookie.empty()) {
        return {CookieStatus::absent, {}, false};
    }
    enum {
        typ,
        sub,
        name,
        access_token,
        refresh_token,
        access_expires_at,
        access_issued_at,
        iat,
        exp,
        sid,
        product,
        country,
        claim_count
    };
    std::array<Claim, claim_count> claims{{{"typ", {}},
                                           {"sub", {}},
                                           {"name", {}},
                                           {"access_token", {}},
                                           {"refresh_token", {}},
                                           {"access_expires_at", {}},
                                           {"access_issued_at", {}},
                                           {"iat", {}},
                                           {"exp", {}},
                                           {"sid", {}},
                                           {"product", {}},
                                           {"country", {}}}};
    bool current_key = true;
    Session s;
    if (!open_claims(keys, cookie, kSessionType, claims, current_key) || !read_string(claims[sub], s.user_id) ||
        !read_string(claims[name], s.display_name) || !read_string(claims[access_token], s.access_token) ||
        !read_string(claims[refresh_token], s.refresh_token) ||
        !read_time(claims[access_expires_at], s.access_expires_at) || !read_time(claims[iat], s.issued_at) ||
        !read_time(claims[exp], s.expires_at)) {
        return {CookieStatus::invalid, {}, false};
    }
    // Optional: older cookies do not have them (0 or empty: unknown).
    read_time(claims[access_issued_at], s.access_issued_at);
    read_string(claims[sid], s.sid);
    read_string(claims[product], s.product);
    read_string(claims[country], s.country);
    if (!clean_provider_text(s)) {
        return {CookieStatus::invalid, {}, false};
    }
    if (s.expires_at <= now) {
        return {CookieStatus::expired, {}, false};
    }
    return {CookieStatus::valid, std::move(s), !current_key};
}

std::optional<std::string> seal_login(const KeyRing& keys, const LoginTransaction& login) {
    const json claims = {
        {"typ", kLoginType},
        {"state", login.state},
        {"code_verifier", login.code_verifier},
        {"return_to", login.return_to},
        {"exp", login.expires_at},
    };
    return keys.seal(claims.dump());
}

std::optional<LoginTransaction> open_login(const KeyRing& keys, std::string_view cookie, UnixTime now) {
    enum { typ, state, code_verifier, return_to, exp, claim_count };
    std::array<Claim, claim_count> claims{
        {{"typ", {}}, {"state", {}}, {"code_verifier", {}}, {"return_to", {}}, {"exp", {}}}};
    bool current_key = true;
    LoginTransaction login;
    if (!open_claims(keys, cookie, kLoginType, claims, current_key) || !read_string(claims[state], login.state) ||
        !read_string(claims[code_verifier], login.code_verifier) || !read_string(claims[return_to], login.return_to) ||
        !read_time(claims[exp], login.expires_at) || login.expires_at <= now) {
        return std::nullopt;
    }
    return login;
}

}  // namespace spotauth
