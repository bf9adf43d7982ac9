// Reading and rewriting the Cookie request header, and Set-Cookie
// construction. Reading and stripping split a header the same way (pairs
// separated by ';', surrounding spaces and tabs dropped, the name is what
// precedes the first '=') and match names case included, as browsers send
// them (the session cookie's exactly, login cookies' by their prefix):
// what the module reads is what it strips.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth {

// The names of the module's cookies for a given `secure` setting: with
// Secure on they carry the __Host- prefix, which browsers only accept from
// HTTPS, on Path=/, without a Domain. The session cookie has one name;
// there is one login cookie per login in progress (two tabs may sign in at
// once), all named with the same prefix.
struct CookieNames {
    std::string session;       // matched exactly
    std::string login_prefix;  // every login cookie's name starts with it

    bool is_login(std::string_view name) const;
    bool is_ours(std::string_view name) const;  // the session or a login cookie
};

CookieNames cookie_names(bool secure);

// The login cookie of the login whose state is `state`: the prefix, '_'
// and the first 16 characters of the base64url SHA-256 of the state.
std::string login_cookie_name(const CookieNames& names, std::string_view state);

// How many logins one browser may have in progress.
inline constexpr std::size_t kMaxPendingLogins = 3;

// The names of the login cookies in `header` (a Cookie request header
// value), in order: browsers send the older of two cookies of one path first.
std::vector<std::string> login_cookies(std::string_view header, const CookieNames& names);

// Which of the login cookies a request carries (`present`, in the order
// sent) a new login clears so that, with its own, at most
// kMaxPendingLogins remain: the oldest, each name once.
std::vector<std::string> login_cookies_to_clear(const std::vector<std::string>& present);

// The value of the first cookie called exactly `name` in `header` (a Cookie
// request header value); nullopt when there is none.
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name);

// `header` (a Cookie request header value) without the module's cookies
// (names.is_ours); other cookies keep their order and values.
std::string strip_cookies(std::string_view header, const CookieNames& names);

// The same without a std::string, for memory the caller owns (the module
// writes into the request's pool): the answer's size, then the answer
// written to `out`, which has room for that size; returns what it wrote.
std::size_t stripped_cookies_size(std::string_view header, const CookieNames& names);
std::size_t strip_cookies_into(std::string_view header, const CookieNames& names, char* out);

struct CookieAttributes {
    bool secure = true;
    std::int64_t max_age = 0;  // 0 deletes the cookie
};

// HttpOnly; SameSite=Lax; Path=/ always.
std::string set_cookie_value(std::string_view name, std::string_view value, const CookieAttributes& attributes);

}  // namespace spotauth
