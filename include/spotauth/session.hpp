// What the two encrypted cookies carry: the session (tokens and who the user
// is) and the short-lived login transaction (state, PKCE verifier, where to
// go afterwards). Both are JSON claims inside a JWE sealed by a KeyRing.
#pragma once

#include "spotauth/jwe.hpp"

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

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

// What SessionCache::open answers: open_session's answer, with the session
// shared with the cache instead of copied. A request holds it for as long
// as it needs it (a refresh can park it across event-loop turns) even if
// the cache evicts the entry meanwhile; the session itself never changes.
struct SharedSession {
    CookieStatus status = CookieStatus::absent;
    std::shared_ptr<const Session> session;  // set exactly when valid
    bool old_key = false;
};

// A worker's memory of recently opened session cookies, so that a cookie
// seen before is not decrypted and parsed again on every request, and its
// session is not copied either (a hit allocates nothing). Only authentic
// cookies are remembered, keyed by their exact bytes, so a hit answers what
// open_session would; expiry is checked on every lookup.
// Use one cache per KeyRing.
class SessionCache {
public:
    explicit SessionCache(std::size_t capacity) : capacity_(capacity) { index_.reserve(capacity); }

    SharedSession open(const KeyRing& keys, std::string_view cookie, UnixTime now);

    std::size_t size() const { return index_.size(); }

private:
    // A cookie with its hash, computed once per lookup from the cookie's
    // last characters: a sealed cookie ends in its AES-GCM tag, which nobody
    // without the key can choose, so the tail spreads entries as well as the
    // whole 0.7 kB would. Equality compares the hashes first and then every
    // byte; the table never reads a remembered cookie to rehash it.
    struct Key {
        std::string_view cookie;
        std::size_t hash = 0;
        bool operator==(const Key& other) const { return hash == other.hash && cookie == other.cookie; }
    };
    struct KeyHash {
        std::size_t operator()(const Key& key) const noexcept { return key.hash; }
    };
    static Key key_of(std::string_view cookie);
    struct Entry;
    using Lru = std::list<Entry>;  // front: most recently used
    // Views into the entries' cookies. Sized once for `capacity` entries, so
    // it never rehashes and the iterators the entries keep stay valid.
    using Index = std::unordered_map<Key, Lru::iterator, KeyHash>;
    struct Entry {
        std::string cookie;
        std::shared_ptr<const Session> session;
        bool old_key = false;
        Index::iterator indexed;  // where index_ lists this entry
    };

    void remember(Key key, std::shared_ptr<const Session> session, bool old_key);

    std::size_t capacity_;
    Lru lru_;
    Index index_;
};

struct LoginTransaction {
    std::string state;
    std::string code_verifier;
    std::string return_to;
    UnixTime expires_at = 0;
};

std::optional<std::string> seal_login(const KeyRing& keys, const LoginTransaction& login);

// nullopt unless authentic, of the right kind and not expired.
std::optional<LoginTransaction> open_login(const KeyRing& keys, std::string_view cookie,
                                           UnixTime now);

}  // namespace spotauth
