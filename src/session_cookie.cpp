#include "spotauth/session_cookie.hpp"

#include "spotauth/provider_text.hpp"

#include <optional>

namespace spotauth {
namespace {

struct Attempt {
    const KeyRing& keys;
    std::string_view name;
    const CookieAttributes& attributes;

    // The Set-Cookie for `session`; nullopt when sealing fails.
    std::optional<std::string> operator()(const Session& session) const {
        const auto sealed = seal_session(keys, session);
        if (!sealed) {
            return std::nullopt;
        }
        return set_cookie_value(name, *sealed, attributes);
    }
};

SessionCookie accepted(std::string set_cookie, Session session, std::size_t untrimmed) {
    return {SessionCookieProblem::none, std::move(set_cookie), std::move(session), untrimmed};
}

SessionCookie refused(SessionCookieProblem problem, std::size_t untrimmed) { return {problem, {}, {}, untrimmed}; }

}  // namespace

SessionCookie session_set_cookie(const KeyRing& keys, const Session& original, std::string_view cookie_name,
                                 const CookieAttributes& attributes) {
    // Every cookie sealed from now on carries a session id (logins made
    // before it was kept get one here, at their next re-seal).
    Session session = original;
    if (session.sid.empty()) {
        session.sid = new_session_id();
    }
    const Attempt attempt{keys, cookie_name, attributes};
    const auto full = attempt(session);
    if (!full) {
        return refused(SessionCookieProblem::seal_failed, 0);
    }
    if (full->size() <= kMaxSetCookieBytes) {
        return accepted(*full, session, full->size());
    }
    // The longest prefix of the name that fits (the size grows with it).
    Session trimmed = session;
    std::optional<std::string> best;
    std::size_t low = 1;
    std::size_t high = session.display_name.size();
    while (low <= high) {
        const std::size_t middle = low + (high - low) / 2;
        Session candidate = session;
        candidate.display_name = std::string(utf8_prefix(session.display_name, middle));
        // A prefix shorter than the first character is empty: look further.
        const auto cookie = candidate.display_name.empty() ? std::nullopt : attempt(candidate);
        const bool fits = cookie && cookie->size() <= kMaxSetCookieBytes;
        if (fits) {
            best = cookie;
            trimmed = std::move(candidate);
        }
        if (fits || candidate.display_name.empty()) {
            low = middle + 1;
        } else {
            high = middle - 1;
        }
    }
    if (best) {
        return accepted(*best, trimmed, full->size());
    }
    trimmed.display_name = session.user_id;
    const auto id_only = attempt(trimmed);
    if (id_only && id_only->size() <= kMaxSetCookieBytes) {
        return accepted(*id_only, trimmed, full->size());
    }
    return refused(SessionCookieProblem::too_large, full->size());
}

std::optional<std::string> login_set_cookie(const KeyRing& keys, LoginTransaction login, std::string_view cookie_name,
                                            const CookieAttributes& attributes) {
    const auto attempt = [&]() -> std::optional<std::string> {
        const auto sealed = seal_login(keys, login);
        return sealed ? std::optional<std::string>(set_cookie_value(cookie_name, *sealed, attributes)) : std::nullopt;
    };
    std::optional<std::string> cookie = attempt();
    if (cookie && cookie->size() > kMaxLoginSetCookieBytes) {
        login.return_to = "/";
        cookie = attempt();
    }
    return cookie;
}

}  // namespace spotauth
