// Reading and rewriting the Cookie request header, and Set-Cookie
// construction. Reading and stripping split a header the same way (pairs
// separated by ';', surrounding spaces and tabs dropped, the name is what
// precedes the first '=') and match names exactly, case included, as
// browsers send them: what the module reads is what it strips.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

// The names of the module's cookies for a given `secure` setting: with
// Secure on they carry the __Host- prefix, which browsers only accept from
// HTTPS, on Path=/, without a Domain.
struct CookieNames {
    std::string session;
    std::string login;
};

CookieNames cookie_names(bool secure);

// The value of the first cookie called exactly `name` in `header` (a Cookie
// request header value); nullopt when there is none.
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name);

// `header` (a Cookie request header value) without the cookies named in
// `names`; other cookies keep their order and values.
std::string strip_cookies(std::string_view header, std::initializer_list<std::string_view> names);

// The same without a std::string, for memory the caller owns (the module
// writes into the request's pool): the answer's size, then the answer
// written to `out`, which has room for that size; returns what it wrote.
std::size_t stripped_cookies_size(std::string_view header, std::initializer_list<std::string_view> names);
std::size_t strip_cookies_into(std::string_view header, std::initializer_list<std::string_view> names,
                               char* out);

struct CookieAttributes {
    bool secure = true;
    std::int64_t max_age = 0;  // 0 deletes the cookie
};

// HttpOnly; SameSite=Lax; Path=/ always.
std::string set_cookie_value(std::string_view name, std::string_view value,
                             const CookieAttributes& attributes);

}  // namespace spotauth
