// The shared zone's layout: what lives in it (ZoneState and its entries),
// its constants and eviction rules, and Locked, the view of it that the
// stores (ngx_spotauth_zone.cpp) and the counters
// (ngx_spotauth_zone_counters.cpp) use under its lock.
#pragma once

#include "ngx_spotauth_zone.hpp"

#include "spotauth/crypto.hpp"
#include "spotauth/revocations.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace spotauth_ngx::zone_layout {

using spotauth::MilliTime;
using spotauth::UnixTime;

// Changes whenever ZoneState or an entry changes shape (bump the first
// byte by hand; the counters count themselves): a zone made by another
// layout is not reused.
constexpr std::uint32_t kLayout =
    0x07000000u | static_cast<std::uint32_t>(spotauth::kCounterCount << 8) | sizeof(ngx_atomic_t);
// A sealed result: two tokens of up to 4096 bytes, their expiry and the
// sealing's overhead.
constexpr std::size_t kMaxSealedRecord = 9000;
constexpr int kExpiredTrimmedPerCall = 4;
constexpr int kEvictionsPerAlloc = 16;
constexpr int kEvictionScan = 64;  // entries looked at for one eviction
// A slab page of small entries is free again once all of its chunks are.
constexpr int kLoginsFreedPerAlloc = 64;
// Every refresh entry takes one slab chunk of this size, so a claim holds
// the room its result will need (Spotify's tokens sealed take about 700
// bytes):
// in a full zone, evicting entries of another size class would not make
// room for the result, and the claim would be lost just as it completes.
constexpr std::size_t kRefreshEntryBytes = 1024;

// One remembered refresh: a claim, or a result sealed to its key (see
// spotauth/sealed_refresh.hpp). A change moves it to the head of the LRU
// queue, which stays ordered by last change.
struct RefreshEntry {
    ngx_str_node_t sn;  // rbtree node + key (points into data)
    ngx_queue_t lru;    // head: newest
    MilliTime claim_deadline;
    MilliTime stored_at;  // housekeeping only: the sealed copy decides
    std::uint16_t sealed_len;
    std::uint16_t capacity;  // bytes for the sealed result after the key
    std::uint8_t in_flight;
    u_char data[1];  // key, sealed result
};

// A spent login state: its hash, until its login cookie expires.
struct LoginEntry {
    ngx_str_node_t sn;
    ngx_queue_t order;  // head: newest (and so the latest to expire)
    UnixTime expires_at;
    u_char data[1];  // key
};

// A logged-out session: its id, until its cookie expires.
struct RevokedEntry {
    ngx_str_node_t sn;
    ngx_queue_t order;  // head: newest
    UnixTime expires_at;
    UnixTime session_start;  // what the floor must cover when it is let go
    u_char data[1];          // sid
};

struct WorkerCalls {
    ngx_pid_t pid;
    ngx_atomic_t calls;
    ngx_atomic_t redis;            // 0: no Redis configured, 1: down (or refusing commands), 2: up
    ngx_atomic_t logouts_pending;  // this worker's outbox for Redis
};

struct ZoneState {
    std::uint32_t layout;
    // Seals the refresh results kept here (made with the zone, kept across
    // reloads so that what the old workers remembered still opens).
    u_char record_secret[spotauth::kAesKeyBytes];
    ngx_atomic_t counters[spotauth::kCounterCount];
    WorkerCalls calls[NGX_MAX_PROCESSES];  // by ngx_process_slot
    ngx_rbtree_t refreshes;
    ngx_rbtree_node_t refresh_sentinel;
    ngx_queue_t refresh_lru;
    ngx_rbtree_t logins;
    ngx_rbtree_node_t login_sentinel;
    ngx_queue_t login_order;
    ngx_rbtree_t revoked;
    ngx_rbtree_node_t revoked_sentinel;
    ngx_queue_t revoked_order;
    ngx_atomic_t revocation_version;
    // Sessions that began before it are refused (spotauth/revocations.hpp):
    // raised, never lowered, when a revocation must be let go.
    ngx_atomic_t revocation_floor;
    ngx_atomic_t floor_logged;  // 1 once the first raise was logged
    MilliTime refresh_window;   // spotauth_refresh_cache, as last claimed with
};

inline ngx_slab_pool_t* pool_of(ngx_shm_zone_t* zone) { return reinterpret_cast<ngx_slab_pool_t*>(zone->shm.addr); }
inline ZoneState* state_of(ngx_shm_zone_t* zone) { return static_cast<ZoneState*>(zone->data); }

class Lock {
public:
    explicit Lock(ngx_slab_pool_t* pool) : pool_(pool) { ngx_shmtx_lock(&pool_->mutex); }
    ~Lock() { ngx_shmtx_unlock(&pool_->mutex); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

private:
    ngx_slab_pool_t* pool_;
};

inline ngx_str_t ngx_key(std::string_view key) {
    return {key.size(), reinterpret_cast<u_char*>(const_cast<char*>(key.data()))};
}

inline ngx_str_node_t* lookup(ngx_rbtree_t* tree, std::string_view key) {
    ngx_str_t k = ngx_key(key);
    return ngx_str_rbtree_lookup(tree, &k, ngx_crc32_short(k.data, k.len));
}

inline void insert(ngx_rbtree_t* tree, ngx_str_node_t* sn, u_char* key_bytes, std::string_view key) {
    ngx_memcpy(key_bytes, key.data(), key.size());
    sn->str = {key.size(), key_bytes};
    sn->node.key = ngx_crc32_short(key_bytes, key.size());
    ngx_rbtree_insert(tree, &sn->node);
}

// Everything below runs with the zone locked.
class Locked {
public:
    explicit Locked(ngx_shm_zone_t* zone) : pool_(pool_of(zone)), z_(state_of(zone)), lock_(pool_) {}

    RefreshEntry* find_refresh(std::string_view key) {
        return reinterpret_cast<RefreshEntry*>(lookup(&z_->refreshes, key));
    }

    LoginEntry* find_login(std::string_view key) { return reinterpret_cast<LoginEntry*>(lookup(&z_->logins, key)); }

    static spotauth::SealedRecord record(const RefreshEntry* e) {
        spotauth::SealedRecord r;
        r.in_flight = e->in_flight != 0;
        r.claim_deadline = e->claim_deadline;
        r.stored_at = e->stored_at;
        r.sealed.assign(reinterpret_cast<const char*>(e->data) + e->sn.str.len, e->sealed_len);
        return r;
    }

    std::string_view record_secret() const {
        return {reinterpret_cast<const char*>(z_->record_secret), sizeof z_->record_secret};
    }

    void remove(RefreshEntry* e) {
        ngx_rbtree_delete(&z_->refreshes, &e->sn.node);
        ngx_queue_remove(&e->lru);
        ngx_slab_free_locked(pool_, e);
    }

    void remove(LoginEntry* e) {
        ngx_rbtree_delete(&z_->logins, &e->sn.node);
        ngx_queue_remove(&e->order);
        ngx_slab_free_locked(pool_, e);
    }

    // Drops the oldest refresh entries whose window (or abandoned claim) is over.
    void trim_stale_refreshes(MilliTime now, MilliTime window) {
        z_->refresh_window = window;
        for (int i = 0; i < kExpiredTrimmedPerCall && !ngx_queue_empty(&z_->refresh_lru); ++i) {
            auto* e = ngx_queue_data(ngx_queue_last(&z_->refresh_lru), RefreshEntry, lru);
            const bool stale = e->in_flight ? e->claim_deadline + window < now : now - e->stored_at >= window;
            if (!stale) {
                return;
            }
            remove(e);
        }
    }

    void trim_expired_logins(UnixTime now) {
        for (int i = 0; i < kExpiredTrimmedPerCall && !ngx_queue_empty(&z_->login_order); ++i) {
            auto* e = oldest_login();
            if (e->expires_at > now) {
                return;
            }
            remove(e);
        }
    }

    // Stores `s` under `key` in place of `old` (may be null): in its own
    // chunk when it fits. False when the zone has no room: the entry is
    // then not remembered.
    bool store(std::string_view key, RefreshEntry* old, const spotauth::SealedRecord& s) {
        const std::size_t bytes = s.sealed.size();
        if (bytes > kMaxSealedRecord) {
            if (old != nullptr) {
                remove(old);
            }
            return false;
        }
        if (old != nullptr && bytes <= old->capacity) {
            fill(old, s);
            ngx_queue_remove(&old->lru);
            ngx_queue_insert_head(&z_->refresh_lru, &old->lru);
            return true;
        }
        if (old != nullptr && !old->in_flight) {
            remove(old);  // settled: it could be picked for eviction below
            old = nullptr;
        }
        const std::size_t size = std::max(offsetof(RefreshEntry, data) + key.size() + bytes, kRefreshEntryBytes);
        auto* e = static_cast<RefreshEntry*>(alloc_for_refresh(size));
        if (old != nullptr) {
            remove(old);  // a claim in flight, never evicted: replaced now
        }
        if (e == nullptr) {
            return false;
        }
        e->capacity = static_cast<std::uint16_t>(size - offsetof(RefreshEntry, data) - key.size());
        insert(&z_->refreshes, &e->sn, e->data, key);
        fill(e, s);
        ngx_queue_insert_head(&z_->refresh_lru, &e->lru);
        return true;
    }

    RevokedEntry* find_revoked(std::string_view sid) {
        return reinterpret_cast<RevokedEntry*>(lookup(&z_->revoked, sid));
    }

    void remove(RevokedEntry* e) {
        ngx_rbtree_delete(&z_->revoked, &e->sn.node);
        ngx_queue_remove(&e->order);
        ngx_slab_free_locked(pool_, e);
    }

    // Stores a revocation; with no room, lets go of the one of the earliest
    // session and raises the floor to cover it (or, with nothing to let go,
    // covers this one). Returns how many were let go.
    int store_revoked(std::string_view sid, UnixTime session_start, UnixTime expires_at, MilliTime now) {
        if (find_revoked(sid) != nullptr ||
            !spotauth::revocation_needed(revocation_floor(), session_start, expires_at, now / 1000)) {
            return 0;
        }
        int evicted = 0;
        const std::size_t size = offsetof(RevokedEntry, data) + sid.size();
        auto* e = static_cast<RevokedEntry*>(alloc_for_revocation(size, now));
        while (e == nullptr && !ngx_queue_empty(&z_->revoked_order) && evicted < kEvictionsPerAlloc) {
            RevokedEntry* victim = earliest_session_revoked();
            raise_floor(victim->session_start);
            remove(victim);
            ++evicted;
            e = static_cast<RevokedEntry*>(ngx_slab_alloc_locked(pool_, size));
        }
        if (e == nullptr) {
            raise_floor(session_start);
            return evicted + 1;
        }
        e->expires_at = expires_at;
        e->session_start = session_start;
        insert(&z_->revoked, &e->sn, e->data, sid);
        ngx_queue_insert_head(&z_->revoked_order, &e->order);
        ngx_atomic_fetch_add(&z_->revocation_version, 1);
        return evicted;
    }

    UnixTime revocation_floor() const { return static_cast<UnixTime>(z_->revocation_floor); }

    // Revocations do not expire in order (sessions end at different times):
    // a few of the oldest are looked at each time.
    void trim_expired_revocations(UnixTime now) {
        ngx_queue_t* q = ngx_queue_last(&z_->revoked_order);
        for (int i = 0; i < kEvictionScan && q != ngx_queue_sentinel(&z_->revoked_order); ++i) {
            ngx_queue_t* prev = ngx_queue_prev(q);
            auto* e = ngx_queue_data(q, RevokedEntry, order);
            if (!spotauth::revocation_needed(revocation_floor(), e->session_start, e->expires_at, now)) {
                remove(e);
            }
            q = prev;
        }
    }

    std::vector<std::pair<std::string, UnixTime>> revoked_list(UnixTime now) {
        std::vector<std::pair<std::string, UnixTime>> out;
        for (ngx_queue_t* q = ngx_queue_head(&z_->revoked_order); q != ngx_queue_sentinel(&z_->revoked_order);
             q = ngx_queue_next(q)) {
            const auto* e = ngx_queue_data(q, RevokedEntry, order);
            if (e->expires_at > now) {
                out.emplace_back(std::string(reinterpret_cast<const char*>(e->sn.str.data), e->sn.str.len),
                                 e->expires_at);
            }
        }
        return out;
    }

    bool store_login(std::string_view key, UnixTime expires_at) {
        auto* e = static_cast<LoginEntry*>(alloc_for_login(offsetof(LoginEntry, data) + key.size()));
        if (e == nullptr) {
            return false;
        }
        e->expires_at = expires_at;
        insert(&z_->logins, &e->sn, e->data, key);
        ngx_queue_insert_head(&z_->login_order, &e->order);
        return true;
    }

private:
    LoginEntry* oldest_login() { return ngx_queue_data(ngx_queue_last(&z_->login_order), LoginEntry, order); }

    static void fill(RefreshEntry* e, const spotauth::SealedRecord& s) {
        ngx_memcpy(e->data + e->sn.str.len, s.sealed.data(), s.sealed.size());
        e->claim_deadline = s.claim_deadline;
        e->stored_at = s.stored_at;
        e->sealed_len = static_cast<std::uint16_t>(s.sealed.size());
        e->in_flight = s.in_flight ? 1 : 0;
    }

    // The least recently changed refresh entry that is not a claim in flight.
    RefreshEntry* oldest_settled_refresh() {
        ngx_queue_t* q = ngx_queue_last(&z_->refresh_lru);
        for (int i = 0; i < kEvictionScan && q != ngx_queue_sentinel(&z_->refresh_lru); ++i, q = ngx_queue_prev(q)) {
            auto* e = ngx_queue_data(q, RefreshEntry, lru);
            if (!e->in_flight) {
                return e;
            }
        }
        return nullptr;
    }

    // Refresh entries make room among spent login states (a page of them
    // at most), then settled refresh results, so that spent states can
    // never push out what refresh coordination needs...
    void* alloc_for_refresh(std::size_t size) {
        int logins = 0;
        for (int i = 0; i <= kEvictionsPerAlloc;) {
            if (void* p = ngx_slab_alloc_locked(pool_, size)) {
                return p;
            }
            if (logins < kLoginsFreedPerAlloc && !ngx_queue_empty(&z_->login_order)) {
                remove(oldest_login());
                ++logins;
                continue;
            }
            RefreshEntry* victim = oldest_settled_refresh();
            if (victim == nullptr) {
                break;
            }
            remove(victim);
            ++i;
        }
        return nullptr;
    }

    // Revocations take the room of refresh results whose window is over
    // (never of one a pre-rotation cookie may still need); then
    // store_revoked() lets go of revocations under the floor.
    void* alloc_for_revocation(std::size_t size, MilliTime now) {
        for (int i = 0; i <= kEvictionsPerAlloc; ++i) {
            if (void* p = ngx_slab_alloc_locked(pool_, size)) {
                return p;
            }
            RefreshEntry* victim = oldest_settled_refresh();
            if (victim != nullptr && now - victim->stored_at >= z_->refresh_window) {
                remove(victim);
            } else if (!ngx_queue_empty(&z_->login_order)) {
                remove(oldest_login());
            } else {
                break;
            }
        }
        return nullptr;
    }

    // Among the oldest revocations, the one whose session began first: the
    // floor that covers it refuses the fewest sessions still in use.
    RevokedEntry* earliest_session_revoked() {
        RevokedEntry* earliest = nullptr;
        ngx_queue_t* q = ngx_queue_last(&z_->revoked_order);
        for (int i = 0; i < kEvictionScan && q != ngx_queue_sentinel(&z_->revoked_order); ++i, q = ngx_queue_prev(q)) {
            auto* e = ngx_queue_data(q, RevokedEntry, order);
            if (earliest == nullptr || e->session_start < earliest->session_start) {
                earliest = e;
            }
        }
        return earliest;
    }

    void raise_floor(UnixTime session_start) {
        z_->revocation_floor =
            static_cast<ngx_atomic_uint_t>(spotauth::floor_covering(revocation_floor(), session_start));
        ngx_atomic_fetch_add(&z_->revocation_version, 1);
    }

    // ...and logins among older logins only.
    void* alloc_for_login(std::size_t size) {
        for (int i = 0; i <= kEvictionsPerAlloc; ++i) {
            if (void* p = ngx_slab_alloc_locked(pool_, size)) {
                return p;
            }
            if (ngx_queue_empty(&z_->login_order)) {
                break;
            }
            remove(oldest_login());
        }
        return nullptr;
    }

    ngx_slab_pool_t* pool_;
    ZoneState* z_;
    Lock lock_;
};

inline bool worker_alive(ngx_pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace spotauth_ngx::zone_layout
