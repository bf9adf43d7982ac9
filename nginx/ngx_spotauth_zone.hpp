// The shared memory zone (spotauth_zone): what every worker of a machine
// shares (refresh claims and results, spent login states, revocations,
// metrics) and
// the stores the rest of the glue uses over it.
#pragma once

#include "ngx_spotauth_compat.hpp"

#include "spotauth/metrics.hpp"
#include "spotauth/refresh_store.hpp"
#include "spotauth/sealed_refresh.hpp"
#include "spotauth/session.hpp"

#include <functional>
#include <utility>
#include <vector>
#include <string_view>

namespace spotauth_ngx {

// The zone's init handler (ngx_shm_zone_t.init).
ngx_int_t init_zone(ngx_shm_zone_t* zone, void* old_data);

// True when the zone is set up in this module's layout and its lock can be
// taken and released (spotauth_health).
bool zone_responds(ngx_shm_zone_t* zone);

// Refresh claims and results, keyed by refresh_key(); a result is sealed
// to its key (spotauth/sealed_refresh.hpp), so one moved in the zone's
// memory does not open. A full zone evicts the oldest settled results,
// never a claim in flight. (The protocol is the
// core's RefreshStore; this gives it the zone's records, locked.)
class ZoneRefreshStore : public spotauth::RefreshStore {
public:
    explicit ZoneRefreshStore(ngx_shm_zone_t* zone) : zone_(zone) {}

private:
    void with_records(const std::function<void(spotauth::RefreshRecords&)>& body) override;

    ngx_shm_zone_t* zone_;
};

// The login states spent at a callback, until their login cookies expire,
// so that each state is used at one callback only, whichever worker serves
// it. Nothing is recorded before the callback (a pending login lives in its
// own sealed cookie): a flood of /auth/login costs the zone nothing. When
// the zone has no room, the oldest spent states give way: a callback
// replayed after that still needs the provider's code, which is single-use.
class ZoneLoginStates {
public:
    explicit ZoneLoginStates(ngx_shm_zone_t* zone) : zone_(zone) {}

    // True when `key` was not spent yet (it is now, until `expires_at`);
    // false when it already was.
    bool spend(std::string_view key, spotauth::UnixTime expires_at, spotauth::UnixTime now);

private:
    ngx_shm_zone_t* zone_;
};

// Sessions logged out on this machine, until their cookies would have
// expired anyway: every worker refuses them. A full zone never forgets
// one: it raises the revocation floor to cover it (spotauth/revocations.hpp).
class ZoneRevocations {
public:
    explicit ZoneRevocations(ngx_shm_zone_t* zone) : zone_(zone) {}

    // Records a logout; returns how many revocations the floor now covers
    // instead of the zone (0: there was room).
    int revoke(std::string_view sid, spotauth::UnixTime session_start, spotauth::UnixTime expires_at,
               spotauth::UnixTime now);

    // Changes with every revocation and every raise of the floor: a worker
    // re-reads the list when it does.
    std::uint64_t version() const;

    // Sessions that began before it are refused (0: none).
    spotauth::UnixTime floor() const;

    // True for the first raise of the floor in the zone's life (logged once).
    bool first_floor_raise();

    // The revocations still in force: (sid, until).
    std::vector<std::pair<std::string, spotauth::UnixTime>> list(spotauth::UnixTime now);

private:
    ngx_shm_zone_t* zone_;
};

// Metrics of all workers. The in-flight token calls are kept per worker
// slot, so that a worker killed mid-call does not leave the gauge up.
class ZoneCounters {
public:
    explicit ZoneCounters(ngx_shm_zone_t* zone) : zone_(zone) {}

    void add(spotauth::Counter c, std::uint64_t n = 1);
    void add_latency(double seconds);

    // This worker's slot of the in-flight gauge: reset when a worker starts.
    void start_worker();
    void call_started();
    void call_finished();
    // This worker's connection to spotauth_redis (the spotauth_redis_up gauge).
    void redis_state(bool up);
    // This worker's logouts waiting for Redis (spotauth_fleet_logouts_pending).
    void logouts_pending(std::size_t count);

    spotauth::CounterValues snapshot() const;

private:
    ngx_shm_zone_t* zone_;
};

}  // namespace spotauth_ngx
