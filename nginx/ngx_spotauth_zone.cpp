// The shared memory zone: its initialisation on start and reload, and the
// stores over it (see ngx_spotauth_zone.hpp; layout in
// ngx_spotauth_zone_layout.hpp).
#include "ngx_spotauth_zone_layout.hpp"

namespace spotauth_ngx {

using namespace zone_layout;

ngx_int_t init_zone(ngx_shm_zone_t* zone, void* old_data) {
    if (old_data != nullptr) {  // reload: keep what the old workers remembered
        if (static_cast<ZoneState*>(old_data)->layout != kLayout) {
            ngx_log_error(NGX_LOG_EMERG, zone->shm.log, 0,
                          "spotauth: zone \"%V\" was made by another version of the module; "
                          "restart nginx (or rename the zone) to use this one",
                          &zone->shm.name);
            return NGX_ERROR;
        }
        zone->data = old_data;
        return NGX_OK;
    }
    auto* pool = pool_of(zone);
    if (zone->shm.exists) {
        zone->data = pool->data;
        return NGX_OK;
    }
    auto* z = static_cast<ZoneState*>(ngx_slab_calloc(pool, sizeof(ZoneState)));
    if (z == nullptr) {
        return NGX_ERROR;
    }
    z->layout = kLayout;
    const auto secret = spotauth::new_record_secret();
    if (!secret) {
        return NGX_ERROR;
    }
    ngx_memcpy(z->record_secret, secret->data(), sizeof z->record_secret);
    ngx_rbtree_init(&z->refreshes, &z->refresh_sentinel, ngx_str_rbtree_insert_value);
    ngx_queue_init(&z->refresh_lru);
    ngx_rbtree_init(&z->logins, &z->login_sentinel, ngx_str_rbtree_insert_value);
    ngx_queue_init(&z->login_order);
    ngx_rbtree_init(&z->revoked, &z->revoked_sentinel, ngx_str_rbtree_insert_value);
    ngx_queue_init(&z->revoked_order);
    pool->data = z;
    pool->log_nomem = 0;  // a full zone evicts; it is not an error
    zone->data = z;
    return NGX_OK;
}

namespace {

// The zone's refresh entries as bytes; the core seals and opens them.
class ZoneRecords : public spotauth::SealedRecords {
public:
    explicit ZoneRecords(Locked& zone) : zone_(zone) {}

    std::optional<spotauth::SealedRecord> find(std::string_view key) override {
        const RefreshEntry* e = zone_.find_refresh(key);
        return e != nullptr ? std::optional<spotauth::SealedRecord>(Locked::record(e)) : std::nullopt;
    }
    bool put(std::string_view key, const spotauth::SealedRecord& entry) override {
        return zone_.store(key, zone_.find_refresh(key), entry);
    }
    void erase(std::string_view key) override {
        if (RefreshEntry* e = zone_.find_refresh(key)) {
            zone_.remove(e);
        }
    }
    void forget_stale(MilliTime now, MilliTime cache_window) override { zone_.trim_stale_refreshes(now, cache_window); }

private:
    Locked& zone_;
};

}  // namespace

void ZoneRefreshStore::with_records(const std::function<void(spotauth::RefreshRecords&)>& body) {
    Locked zone(zone_);
    ZoneRecords records(zone);
    spotauth::SealingRecords sealing(records, zone.record_secret());
    body(sealing);
}

int ZoneRevocations::revoke(std::string_view sid, UnixTime session_start, UnixTime expires_at, UnixTime now) {
    Locked zone(zone_);
    zone.trim_expired_revocations(now);
    return zone.store_revoked(sid, session_start, expires_at, MilliTime{now} * 1000);
}

std::uint64_t ZoneRevocations::version() const { return state_of(zone_)->revocation_version; }

UnixTime ZoneRevocations::floor() const { return static_cast<UnixTime>(state_of(zone_)->revocation_floor); }

bool ZoneRevocations::first_floor_raise() { return ngx_atomic_cmp_set(&state_of(zone_)->floor_logged, 0, 1) != 0; }

std::vector<std::pair<std::string, UnixTime>> ZoneRevocations::list(UnixTime now) {
    Locked zone(zone_);
    return zone.revoked_list(now);
}

bool ZoneLoginStates::spend(std::string_view key, UnixTime expires_at, UnixTime now) {
    Locked zone(zone_);
    zone.trim_expired_logins(now);
    if (LoginEntry* e = zone.find_login(key)) {
        if (e->expires_at > now) {
            return false;
        }
        zone.remove(e);
    }
    zone.store_login(key, expires_at);  // no room at all: the code's single use is the provider's
    return true;
}

}  // namespace spotauth_ngx
