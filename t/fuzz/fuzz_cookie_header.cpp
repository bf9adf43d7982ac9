// The input is a Cookie request header value; strip_cookies removes the
// module's cookies before the request goes upstream, as the module calls it
// (the two names of one `secure` setting) and with all four names at once.
// find_cookie, which reads the session, must agree: a cookie it reads is
// one that stripping removes, and a header it finds nothing in loses
// nothing to stripping.
#include "fuzz_common.hpp"

#include "spotauth/cookie.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace {

// An independent reading of a Cookie header: pairs split on ';' with
// spaces and tabs around them dropped; a name is what precedes the first
// '=', spaces and tabs around it dropped.
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
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

void check_strip(std::string_view header, std::initializer_list<std::string_view> names) {
    const auto dropped = [&](std::string_view pair) {
        return std::find(names.begin(), names.end(), name_of(pair)) != names.end();
    };
    const std::string once = spotauth::strip_cookies(header, names);
    const auto kept = pairs_of(once);
    for (const auto pair : kept) {
        FUZZ_CHECK(!dropped(pair));
    }
    // Every other pair survives, in order and unchanged.
    std::vector<std::string_view> expected;
    for (const auto pair : pairs_of(header)) {
        if (!dropped(pair)) {
            expected.push_back(pair);
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
    for (const auto name : names) {
        const auto read = spotauth::find_cookie(header, name);
        FUZZ_CHECK(!spotauth::find_cookie(once, name));
        const std::string alone = spotauth::strip_cookies(header, {name});
        FUZZ_CHECK(read.has_value() == (alone != spotauth::strip_cookies(header, {})));
        if (read) {
            // What is read is the value of a pair that stripping dropped.
            bool seen = false;
            for (const auto pair : pairs_of(header)) {
                const auto eq = pair.find('=');
                const auto value = eq == std::string_view::npos ? std::string_view() : trim(pair.substr(eq + 1));
                seen = seen || (name_of(pair) == name && value == *read);
            }
            FUZZ_CHECK(seen);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    static const auto secure = spotauth::cookie_names(true);
    static const auto plain = spotauth::cookie_names(false);
    check_strip(header, {secure.session, secure.login});
    check_strip(header, {plain.session, plain.login});
    check_strip(header, {secure.session, secure.login, plain.session, plain.login});

    // After both of the module's passes no cookie of the module is left.
    const std::string both = spotauth::strip_cookies(
        spotauth::strip_cookies(header, {secure.session, secure.login}), {plain.session, plain.login});
    for (const auto pair : pairs_of(both)) {
        const auto name = name_of(pair);
        FUZZ_CHECK(name != "spotauth" && name != "spotauth_login" && name != "__Host-spotauth" &&
                   name != "__Host-spotauth_login");
    }
    return 0;
}
