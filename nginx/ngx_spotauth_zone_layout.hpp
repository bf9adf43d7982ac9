// The shared zone's layout: what lives in it (ZoneState and its entries),
// its constants and eviction rules, and Locked, the view of it that the
// stores (ngx_spotauth_zone.cpp) and the counters
// (ngx_spotauth_zone_counters.cpp) use under its lock.
#pragma once

#include "ngx_spotauth_zone.hpp"

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
    0x06000000u | static_cast<std::uint32_t>(spotauth::kCounterCount << 8) | sizeof(ngx_atomic_t);
constexpr std::size_t kMaxStoredToken = 4096;
constexpr int kExpiredTrimmedPerCall = 4;
constexpr int kEvictionsPerAlloc = 16;
constexpr int kEvictionScan = 64;  // entries looked at for one eviction
// Every refresh entry takes one slab chunk of this size, so a claim holds
// the room its result will need (Spotify's tokens take about 400 bytes):
// in a full zone, evicting entries of another size class would not make
// room for the result, and the claim would be lost just as it completes.
constexpr std::size_t kRefreshEntryBytes = 1024;

// One remembered refresh. Entries are immutable once inserted: a change is
// a remove + insert, which keeps the LRU queue ordered by last change.
struct RefreshEntry {
    ngx_str_node_t sn;  // rbtree node + key (points into data)
    ngx_queue_t lru;    // head: newest
    MilliTime claim_deadline;
    MilliTime stored_at;
    UnixTime access_expires_at;
    UnixTime access_issued_at;
    std::uint16_t access_len;
    std::uint16_t refresh_len;
    std::uint16_t capacity;  // bytes for tokens after the key
    std::uint8_t in_flight;
    std::uint8_t outcome;  // spotauth::TokenOutcome
    u_char data[1];        // key, access token, refresh token
};

// A login in progress: the hash of its state, until its cookie expires.
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
    u_char data[1];  // sid
};

struct WorkerCalls {
    ngx_pid_t pid;
    ngx_atomic_t calls;
    ngx_atomic_t redis;  // 0: no Redis configured, 1: down (or refusing commands), 2: up
    ngx_atomic_t logouts_pending;  // this worker's outbox for Redis
};

struct ZoneState {
    std::uint32_t layout;
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

    LoginEntry* find_login(std::string_view key) {
        return reinterpret_cast<LoginEntry*>(lookup(&z_->logins, key));
    }

    static spotauth::StoredRefresh stored(const RefreshEntry* e) {
        spotauth::StoredRefresh s;
        s.in_flight = e->in_flight != 0;
        s.claim_deadline = e->claim_deadline;
        s.stored_at = e->stored_at;
        s.result.outcome = static_cast<spotauth::TokenOutcome>(e->outcome);
        const char* tokens = reinterpret_cast<const char*>(e->data) + e->sn.str.len;
        s.result.access_token.assign(tokens, e->access_len);
        s.result.refresh_token.assign(tokens + e->access_len, e->refresh_len);
        s.result.access_expires_at = e->access_expires_at;
        s.result.access_issued_at = e->access_issued_at;
        if (s.result.outcome == spotauth::TokenOutcome::permanent) {
            s.result.error = "invalid_grant";
            s.result.description = "refresh token refused (remembered from an earlier attempt)";
        }
        return s;
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
    // chunk when the tokens fit. False when the zone has no room: the
    // entry is then not remembered.
    bool store(std::string_view key, RefreshEntry* old, const spotauth::StoredRefresh& s) {
        const std::size_t tokens = s.result.access_token.size() + s.result.refresh_token.size();
        if (s.result.access_token.size() > kMaxStoredToken || s.result.refresh_token.size() > kMaxStoredToken) {
            if (old != nullptr) {
                remove(old);
            }
            return false;
        }
        if (old != nullptr && tokens <= old->capacity) {
            fill(old, s);
            ngx_queue_remove(&old->lru);
            ngx_queue_insert_head(&z_->refresh_lru, &old->lru);
            return true;
        }
        if (old != nullptr && !old->in_flight) {
            remove(old);  // settled: it could be picked for eviction below
            old = nullptr;
        }
        const std::size_t size = std::max(offsetof(RefreshEntry, data) + key.size() + tokens, kRefreshEntryBytes);
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

    bool store_revoked(std::string_view sid, UnixTime expires_at) {
        if (find_revoked(sid) != nullptr) {
            return true;
        }
        auto* e = static_cast<RevokedEntry*>(alloc_for_revocation(offsetof(RevokedEntry, data) + sid.size()));
        if (e == nullptr) {
            return false;
        }
        e->expires_at = expires_at;
        insert(&z_->revoked, &e->sn, e->data, sid);
        ngx_queue_insert_head(&z_->revoked_order, &e->order);
        ngx_atomic_fetch_add(&z_->revocation_version, 1);
        return true;
    }

    // Revocations do not expire in order (sessions end at different times):
    // a few of the oldest are looked at each time.
    void trim_expired_revocations(UnixTime now) {
        ngx_queue_t* q = ngx_queue_last(&z_->revoked_order);
        for (int i = 0; i < kEvictionScan && q != ngx_queue_sentinel(&z_->revoked_order); ++i) {
            ngx_queue_t* prev = ngx_queue_prev(q);
            auto* e = ngx_queue_data(q, RevokedEntry, order);
            if (e->expires_at <= now) {
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

    static void fill(RefreshEntry* e, const spotauth::StoredRefresh& s) {
        const std::string& access = s.result.access_token;
        const std::string& refresh = s.result.refresh_token;
        u_char* tokens = e->data + e->sn.str.len;
        ngx_memcpy(ngx_cpymem(tokens, access.data(), access.size()), refresh.data(), refresh.size());
        e->claim_deadline = s.claim_deadline;
        e->stored_at = s.stored_at;
        e->access_expires_at = s.result.access_expires_at;
        e->access_issued_at = s.result.access_issued_at;
        e->access_len = static_cast<std::uint16_t>(access.size());
        e->refresh_len = static_cast<std::uint16_t>(refresh.size());
        e->in_flight = s.in_flight ? 1 : 0;
        e->outcome = static_cast<std::uint8_t>(s.result.outcome);
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

    // Refresh entries make room among settled refresh results only, so a
    // flood of logins cannot push out what refresh coordination needs...
    void* alloc_for_refresh(std::size_t size) {
        for (int i = 0; i <= kEvictionsPerAlloc; ++i) {
            if (void* p = ngx_slab_alloc_locked(pool_, size)) {
                return p;
            }
            RefreshEntry* victim = oldest_settled_refresh();
            if (victim == nullptr) {
                break;
            }
            remove(victim);
        }
        return nullptr;
    }

    // Revocations take the room of settled refresh results, then of the
    // expired and then the oldest revocations.
    void* alloc_for_revocation(std::size_t size) {
        for (int i = 0; i <= kEvictionsPerAlloc; ++i) {
            if (void* p = ngx_slab_alloc_locked(pool_, size)) {
                return p;
            }
            if (RefreshEntry* victim = oldest_settled_refresh()) {
                remove(victim);
                continue;
            }
            if (ngx_queue_empty(&z_->revoked_order)) {
                break;
            }
            remove(ngx_queue_data(ngx_queue_last(&z_->revoked_order), RevokedEntry, order));
        }
        return nullptr;
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
