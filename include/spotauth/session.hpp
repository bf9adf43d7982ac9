// What the two encrypted cookies carry: the session (tokens and who the user
// is) and the short-lived login transaction (state, PKCE verifier, where to
// go afterwards). Both are JSON claims inside a JWE sealed by a KeyRing.
#pragma once

#include "spotauth/jwe.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

using UnixTime = std::int64_t;

struct Session {
    // A random id of this login, kept across refreshes: what a logout
    // revokes for every machine. Empty in cookies sealed before it was kept
    // (they get one when next re-sealed).
    std::string sid;
    std::string user_id;
    std::string display_name;
    // As /v1/me said at login (with scope user-read-private); empty: unknown,
    // as in cookies sealed before they were kept.
    std::string product;  // "premium", "free", ...
    std::string country;  // ISO 3166-1 alpha-2
    std::string access_token;
    std::string refresh_token;
    UnixTime access_expires_at = 0;
    UnixTime access_issued_at = 0;  // 0: unknown (cookies sealed before it was kept)
    UnixTime issued_at = 0;
    UnixTime expires_at = 0;  // end of the session itself
};

enum class CookieStatus {
    absent,   // no cookie at all
    invalid,  // tampered, truncated, wrong key, not ours: "no session"
    expired,  // authentic but past its expiry
    revoked,  // authentic, but its login was logged out (on any machine)
    valid,
};

struct OpenedSession {
    CookieStatus status = CookieStatus::absent;
    Session session;
    bool old_key = false;  // valid, but sealed with a key being rotated out
};

std::optional<std::string> seal_session(const KeyRing& keys, const Session& session);

// A fresh random session id (128 bits, base64url); empty only if the CSPRNG fails.
std::string new_session_id();
OpenedSession open_session(const KeyRing& keys, std::string_view cookie, UnixTime now);

struct LoginTransaction {
    std::string state;
    std::string code_verifier;
    std::string return_to;
    UnixTime expires_at = 0;
};

std::optional<std::string> seal_login(const KeyRing& keys, const LoginTransaction& login);

// nullopt unless authentic, of the right kind and not expired.
std::optional<LoginTransaction> open_login(const KeyRing& keys, std::string_view cookie, UnixTime now);

}  // namespace spotauth
