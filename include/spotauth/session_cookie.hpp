// The session cookie as it goes out: sealed, wrapped in a Set-Cookie, and
// never larger than browsers keep. Browsers drop a cookie over 4096 bytes
// silently, which would look like a login that did not stick.
#pragma once

#include "spotauth/cookie.hpp"
#include "spotauth/session.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

inline constexpr std::size_t kMaxSetCookieBytes = 4096;

enum class SessionCookieProblem {
    none,
    seal_failed,  // no randomness, or no key
    too_large,    // even with the display name trimmed away
};

struct SessionCookie {
    SessionCookieProblem problem = SessionCookieProblem::none;
    std::string set_cookie;           // the whole Set-Cookie value (when problem is none)
    Session session;                  // what the cookie holds: the display name may be trimmed
    std::size_t untrimmed_bytes = 0;  // the Set-Cookie's size before any trimming
};

// `session` sealed into a Set-Cookie value of at most kMaxSetCookieBytes.
// Only the display name gives way: cut to the longest prefix that fits,
// or, if no part of it fits, replaced by the user id (as when the provider
// has no display name). Tokens and the id are never cut: then too_large.
SessionCookie session_set_cookie(const KeyRing& keys, const Session& session, std::string_view cookie_name,
                                 const CookieAttributes& attributes);

// A login cookie's whole Set-Cookie is at most this long, so that a full
// session cookie and kMaxPendingLogins login cookies fit in one Cookie
// header of 8 KB (nginx's default large_client_header_buffers).
inline constexpr std::size_t kMaxLoginSetCookieBytes = 1024;

// `login` sealed into a Set-Cookie value of at most kMaxLoginSetCookieBytes:
// a return_to too long to fit becomes "/". nullopt when sealing fails.
std::optional<std::string> login_set_cookie(const KeyRing& keys, LoginTransaction login, std::string_view cookie_name,
                                            const CookieAttributes& attributes);

}  // namespace spotauth
