// The module's counters and their Prometheus text exposition. The values
// live wherever the caller keeps them (nginx: atomics in shared memory, so
// every worker counts into the same place); this only names and formats.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace spotauth {

// Upper bounds (seconds) of the token-endpoint latency histogram; a last
// bucket catches the rest (+Inf).
inline constexpr std::array kLatencyBounds{0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

// Every counter and gauge before kLatencyBucketFirst has its sample in
// src/metrics.cpp's kFamilies, exactly once, and its family in
// docs/operations.md (metrics_test checks both).
enum Counter : std::size_t {
    kLoginsOk,
    kLoginsFailed,
    kRejectedAbsent,
    kRejectedInvalid,
    kRejectedExpired,
    kRejectedRevoked,
    kRefreshOk,
    kRefreshPermanent,
    kRefreshTransient,
    kRefreshMisconfigured,
    kRefreshJoined,
    kRefreshCacheHits,
    kRefreshRemoteWaits,
    kRefreshClaimsUnrecorded,
    kLoginReplays,
    kCodeExchangesLimited,
    kRedisErrorsOom,  // Redis's error replies, by kind (RedisErrorKind's order)
    kRedisErrorsReadonly,
    kRedisErrorsNoauth,
    kRedisErrorsLoading,
    kRedisErrorsOther,
    kFleetValuesRefused,   // values in Redis that did not open where they were found
    kFleetLogoutsDropped,  // logouts a full outbox could not keep for Redis
    kFleetLogoutsPending,  // a gauge: logouts waiting for Redis to take them
    kRevocationsEvicted,
    kTokenCallsInFlight,  // a gauge
    kRedisUp,             // a gauge
    kRevocationFloor,     // a gauge (Unix time; 0: none)
    kLatencyBucketFirst,
    kLatencyBucketLast = kLatencyBucketFirst + kLatencyBounds.size(),  // +Inf
    kLatencySumMicros,
    kLatencyCount,
    kCounterCount  // not a counter: how many there are
};

using CounterValues = std::array<std::uint64_t, kCounterCount>;

// The (non-cumulative) bucket counter a call of `seconds` belongs to.
Counter latency_bucket(double seconds);

// Prometheus text format 0.0.4.
std::string prometheus_text(const CounterValues& values);

}  // namespace spotauth
