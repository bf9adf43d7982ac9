#include "spotauth/session_cache.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace spotauth {

SessionCache::SessionCache(std::size_t capacity) : capacity_(std::min<std::size_t>(capacity, kNone - 1)) {
    if (capacity_ == 0) {
        return;
    }
    std::size_t slots = 2;
    while (slots < 2 * capacity_) {  // at most half full: every probe meets an empty slot
        slots *= 2;
    }
    slots_.resize(slots);
    seen_.resize(slots);
    entries_.reserve(capacity_);
}

// Hashes the cookie's last characters only: a sealed cookie ends in its
// AES-GCM tag, which nobody without the key can choose, so the tail spreads
// entries as well as the whole 0.7 kB would, at a fraction of the cost.
// Equality still compares every byte.
std::uint64_t SessionCache::hash_of(std::string_view cookie) {
    constexpr std::size_t kTail = 22;  // base64url of the 16-byte tag
    return std::hash<std::string_view>{}(cookie.substr(cookie.size() > kTail ? cookie.size() - kTail : 0));
}

SharedSession SessionCache::open(const KeyRing& keys, std::string_view cookie, UnixTime now) {
    const std::uint64_t hash = hash_of(cookie);
    const Index hit = find(hash, cookie);
    if (hit != kNone) {
        make_newest(hit);
        const Entry& entry = entries_[hit];
        if (entry.session->expires_at <= now) {
            return {CookieStatus::expired, nullptr, false};
        }
        return {CookieStatus::valid, entry.session, entry.old_key};
    }
    OpenedSession opened = open_session(keys, cookie, now);
    if (opened.status != CookieStatus::valid) {
        return {opened.status, nullptr, false};
    }
    auto session = std::make_shared<const Session>(std::move(opened.session));
    if (capacity_ > 0 && seen_before(hash)) {
        remember(hash, cookie, session, opened.old_key);
    }
    return {CookieStatus::valid, std::move(session), opened.old_key};
}

SessionCache::Index SessionCache::find(std::uint64_t hash, std::string_view cookie) const {
    if (slots_.empty()) {
        return kNone;
    }
    for (std::size_t slot = home_of(hash);; slot = next_slot(slot)) {
        const Slot& s = slots_[slot];
        if (s.entry == kNone) {
            return kNone;
        }
        if (s.hash == static_cast<std::uint32_t>(hash) && entries_[s.entry].cookie == cookie) {
            return s.entry;
        }
    }
}

// True when this cookie was opened before, and not remembered (a slot
// keeps a cookie's mark until a newer cookie takes it). Marks are never 0,
// the empty slot.
bool SessionCache::seen_before(std::uint64_t hash) {
    std::uint32_t& slot = seen_[(hash >> 32) & (seen_.size() - 1)];
    const std::uint32_t mark = static_cast<std::uint32_t>(hash) | 1u;
    if (slot == mark) {
        slot = 0;
        return true;
    }
    slot = mark;
    return false;
}

// A full cache reuses the least recently used entry in place: its string
// buffer is kept, and its cold cookie is never compared again.
void SessionCache::remember(std::uint64_t hash, std::string_view cookie, std::shared_ptr<const Session> session,
                            bool old_key) {
    Index index = oldest_;
    if (entries_.size() < capacity_) {
        index = static_cast<Index>(entries_.size());
        entries_.emplace_back();
    } else {
        remove_slot(index);
        unlink(index);
    }
    Entry& entry = entries_[index];
    entry.cookie.assign(cookie);
    entry.session = std::move(session);
    entry.hash = hash;
    entry.old_key = old_key;
    push_newest(index);
    put_slot(hash, index);
}

void SessionCache::put_slot(std::uint64_t hash, Index entry) {
    std::size_t slot = home_of(hash);
    while (slots_[slot].entry != kNone) {
        slot = next_slot(slot);
    }
    slots_[slot] = {static_cast<std::uint32_t>(hash), entry};
}

// Linear probing without tombstones: after emptying a slot, each later slot
// of the run moves back into the hole unless that would put it before its
// home, so every probe still reaches its entry before an empty slot.
void SessionCache::remove_slot(Index entry) {
    std::size_t hole = home_of(entries_[entry].hash);
    while (slots_[hole].entry != entry) {
        hole = next_slot(hole);
    }
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t next = next_slot(hole); slots_[next].entry != kNone; next = next_slot(next)) {
        const std::size_t home = slots_[next].hash & mask;
        if (((next - home) & mask) >= ((next - hole) & mask)) {
            slots_[hole] = slots_[next];
            hole = next;
        }
    }
    slots_[hole] = Slot{};
}

void SessionCache::make_newest(Index index) {
    if (index != newest_) {
        unlink(index);
        push_newest(index);
    }
}

void SessionCache::push_newest(Index index) {
    Entry& entry = entries_[index];
    entry.newer = kNone;
    entry.older = newest_;
    if (newest_ != kNone) {
        entries_[newest_].newer = index;
    }
    newest_ = index;
    if (oldest_ == kNone) {
        oldest_ = index;
    }
}

void SessionCache::unlink(Index index) {
    Entry& entry = entries_[index];
    if (entry.newer != kNone) {
        entries_[entry.newer].older = entry.older;
    } else {
        newest_ = entry.older;
    }
    if (entry.older != kNone) {
        entries_[entry.older].newer = entry.newer;
    } else {
        oldest_ = entry.newer;
    }
    entry.newer = kNone;
    entry.older = kNone;
}

}  // namespace spotauth
