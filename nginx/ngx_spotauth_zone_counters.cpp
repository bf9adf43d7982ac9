// The module's metrics in the shared zone, counted by every worker; the
// in-flight gauge and Redis's state per worker slot (see
// ngx_spotauth_zone.hpp).
#include "ngx_spotauth_zone_layout.hpp"

namespace spotauth_ngx {

using namespace zone_layout;

void ZoneCounters::add(spotauth::Counter c, std::uint64_t n) {
    ngx_atomic_fetch_add(&state_of(zone_)->counters[c], static_cast<ngx_atomic_int_t>(n));
}

void ZoneCounters::add_latency(double seconds) {
    add(spotauth::latency_bucket(seconds));
    add(spotauth::kLatencySumMicros, static_cast<std::uint64_t>(seconds * 1e6));
    add(spotauth::kLatencyCount);
}

void ZoneCounters::start_worker() {
    WorkerCalls& slot = state_of(zone_)->calls[ngx_process_slot];
    slot.calls = 0;
    slot.redis = 0;
    slot.logouts_pending = 0;
    slot.pid = ngx_pid;
}

void ZoneCounters::redis_state(bool up) { state_of(zone_)->calls[ngx_process_slot].redis = up ? 2 : 1; }

void ZoneCounters::logouts_pending(std::size_t count) {
    state_of(zone_)->calls[ngx_process_slot].logouts_pending = static_cast<ngx_atomic_uint_t>(count);
}

void ZoneCounters::call_started() { ngx_atomic_fetch_add(&state_of(zone_)->calls[ngx_process_slot].calls, 1); }

void ZoneCounters::call_finished() { ngx_atomic_fetch_add(&state_of(zone_)->calls[ngx_process_slot].calls, -1); }

bool zone_responds(ngx_shm_zone_t* zone) {
    if (zone == nullptr || zone->data == nullptr) {
        return false;
    }
    Lock lock(pool_of(zone));
    return state_of(zone)->layout == kLayout;
}

spotauth::CounterValues ZoneCounters::snapshot() const {
    const ZoneState* z = state_of(zone_);
    spotauth::CounterValues v{};
    for (std::size_t i = 0; i < v.size(); ++i) {
        v[i] = z->counters[i];
    }
    std::uint64_t in_flight = 0;
    std::uint64_t redis_workers = 0;
    std::uint64_t redis_up = 0;
    std::uint64_t logouts_pending = 0;
    for (const WorkerCalls& slot : z->calls) {
        if ((slot.calls > 0 || slot.redis != 0) && worker_alive(slot.pid)) {
            in_flight += slot.calls;
            logouts_pending += slot.logouts_pending;
            redis_workers += slot.redis != 0 ? 1 : 0;
            redis_up += slot.redis == 2 ? 1 : 0;
        }
    }
    v[spotauth::kTokenCallsInFlight] = in_flight;
    v[spotauth::kFleetLogoutsPending] = logouts_pending;
    v[spotauth::kRedisUp] = redis_workers > 0 && redis_up == redis_workers ? 1 : 0;
    v[spotauth::kRevocationFloor] = z->revocation_floor;
    return v;
}

}  // namespace spotauth_ngx
