// A worker's memory of recently opened session cookies, so that a cookie
// seen before is not decrypted and parsed again on every request, and its
// session is not copied either (a hit allocates nothing).
#pragma once

#include "spotauth/session.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth {

// What SessionCache::open answers: open_session's answer, with the session
// shared with the cache instead of copied. A request holds it for as long
// as it needs it (a refresh can park it across event-loop turns) even if
// the cache evicts the entry meanwhile; the session itself never changes.
struct SharedSession {
    CookieStatus status = CookieStatus::absent;
    std::shared_ptr<const Session> session;  // set exactly when valid
    bool old_key = false;
};

// Only authentic cookies are remembered, keyed by their exact bytes, so a
// hit answers what open_session would; expiry is checked on every lookup.
// A cookie is remembered the second time it is opened, not the first: a
// burst of cookies seen once each (one-off clients, or somebody cycling
// through many of their own sessions) then neither evicts the sessions in
// use nor pays for entries nobody asks for again. The least recently used
// entry makes room. Use one cache per KeyRing.
//
// Laid out flat (a fixed array of entries and an open-addressing table of
// small slots) because a cookie a worker has not seen costs a lookup that
// misses and an eviction, and with thousands of sessions in rotation that
// memory is cold: node-based containers paid a cache miss per pointer they
// followed, about a third of such a request's cost (bench/PROFILE.md).
class SessionCache {
public:
    explicit SessionCache(std::size_t capacity);

    SharedSession open(const KeyRing& keys, std::string_view cookie, UnixTime now);

    std::size_t size() const { return entries_.size(); }

private:
    using Index = std::uint32_t;
    static constexpr Index kNone = std::numeric_limits<Index>::max();

    struct Entry {
        std::string cookie;
        std::shared_ptr<const Session> session;
        std::uint64_t hash = 0;
        bool old_key = false;
        Index newer = kNone;  // neighbours in the recency list
        Index older = kNone;
    };
    // Part of the hash, so most mismatches are skipped without reading the
    // entry, and where the entry is.
    struct Slot {
        std::uint32_t hash = 0;
        Index entry = kNone;
    };

    static std::uint64_t hash_of(std::string_view cookie);
    std::size_t home_of(std::uint64_t hash) const { return hash & (slots_.size() - 1); }
    std::size_t next_slot(std::size_t slot) const { return (slot + 1) & (slots_.size() - 1); }

    Index find(std::uint64_t hash, std::string_view cookie) const;
    bool seen_before(std::uint64_t hash);
    void remember(std::uint64_t hash, std::string_view cookie, std::shared_ptr<const Session> session, bool old_key);
    void put_slot(std::uint64_t hash, Index entry);
    void remove_slot(Index entry);
    void make_newest(Index entry);  // a remembered entry
    void push_newest(Index entry);  // an entry not in the recency list
    void unlink(Index entry);

    std::size_t capacity_;
    std::vector<Entry> entries_;  // grows to capacity_ once, never reallocates
    std::vector<Slot> slots_;     // a power of two, at least twice capacity_
    // Cookies opened once and not remembered: part of each one's hash, in
    // a slot chosen by another part (as many slots as slots_; a newer
    // cookie overwrites an older one, which is then opened once more).
    std::vector<std::uint32_t> seen_;
    Index newest_ = kNone;
    Index oldest_ = kNone;
};

}  // namespace spotauth
