// The input is a Cookie request header value; strip_cookies removes the
// module's cookies before the request goes upstream (the session cookie by
// its exact name, login cookies by their prefix), as the module calls it,
// for either `secure` setting. find_cookie, which reads the session and a
// login cookie, and login_cookies, which lists the login cookies, must
// agree: a cookie they read is one that stripping removes, and a header
// they find nothing in loses nothing to stripping.
#include "fuzz_common.hpp"

#include "spotauth/cookie.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

// An independent reading of a Cookie header: pairs split on ';' with
// spaces and tabs around them dropped; a name is what precedes the first
// '=', spaces and tabs around it dropped.
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> pairs_of(std::string_view header) {
    std::vector<std::string_view> out;
    for (;;) {
        const std::size_t semi = header.find(';');
        const std::string_view pair = trim(header.substr(0, semi));
        if (!pair.empty()) {
            out.push_back(pair);
        }
        if (semi == std::string_view::npos) {
            return out;
        }
        header.remove_prefix(semi + 1);
    }
}

std::string_view name_of(std::string_view pair) { return trim(pair.substr(0, pair.find('='))); }

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::optional<std::string_view> value_of(std::string_view pair) {
    const auto eq = pair.find('=');
    return eq == std::string_view::npos ? std::string_view() : trim(pair.substr(eq + 1));
}

void check_strip(std::string_view header, const spotauth::CookieNames& names) {
    const auto is_login = [&](std::string_view pair) { return starts_with(name_of(pair), names.login_prefix); };
    const auto dropped = [&](std::string_view pair) { return name_of(pair) == names.session || is_login(pair); };
    const std::string once = spotauth::strip_cookies(header, names);
    const auto kept = pairs_of(once);
    for (const auto pair : kept) {
        FUZZ_CHECK(!dropped(pair));
    }
    // Every other pair survives, in order and unchanged.
    std::vector<std::string_view> expected;
    std::vector<std::string> logins;
    for (const auto pair : pairs_of(header)) {
        if (!dropped(pair)) {
            expected.push_back(pair);
        } else if (is_login(pair)) {
            logins.emplace_back(name_of(pair));
        }
    }
    FUZZ_CHECK(kept == expected);
    FUZZ_CHECK(spotauth::strip_cookies(once, names) == once);
    // Nothing to strip: the pairs come back, joined canonically.
    std::string joined;
    for (const auto pair : expected) {
        joined.append(joined.empty() ? "" : "; ").append(pair);
    }
    FUZZ_CHECK(once == joined);
    // The login cookies listed are the ones stripped; none is left.
    FUZZ_CHECK(spotauth::login_cookies(header, names) == logins);
    FUZZ_CHECK(spotauth::login_cookies(once, names).empty());
    std::vector<std::string> read_names = logins;
    read_names.push_back(names.session);
    for (const auto& name : read_names) {
        const auto read = spotauth::find_cookie(header, name);
        FUZZ_CHECK(!spotauth::find_cookie(once, name));
        bool present = false;
        bool seen = false;  // what is read is the value of a pair that stripping dropped
        for (const auto pair : pairs_of(header)) {
            present = present || name_of(pair) == name;
            seen = seen || (name_of(pair) == name && read && value_of(pair) == *read);
        }
        FUZZ_CHECK(read.has_value() == present);
        FUZZ_CHECK(!read || seen);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    static const auto secure = spotauth::cookie_names(true);
    static const auto plain = spotauth::cookie_names(false);
    check_strip(header, secure);
    check_strip(header, plain);

    // After both settings' passes no cookie of the module is left.
    const std::string both = spotauth::strip_cookies(spotauth::strip_cookies(header, secure), plain);
    for (const auto pair : pairs_of(both)) {
        const auto name = name_of(pair);
        FUZZ_CHECK(name != "spotauth" && name != "__Host-spotauth" && !starts_with(name, "spotauth_login") &&
                   !starts_with(name, "__Host-spotauth_login"));
    }
    return 0;
}
