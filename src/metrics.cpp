// The Prometheus text exposition of the module's counters (include/spotauth/metrics.hpp).
#include "spotauth/metrics.hpp"

#include <initializer_list>
#include <sstream>
#include <utility>

namespace spotauth {
namespace {

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void sample(std::ostringstream& out, const char* name, const char* labels, std::uint64_t value) {
    out << name;
    if (labels[0] != '\0') {
        out << '{' << labels << '}';
    }
    out << ' ' << value << '\n';
}

// One metric family: its samples are counters of one labelled dimension
// (or a single unlabelled value).
struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::initializer_list<std::pair<const char*, Counter>> samples;  // labels, counter
};

// Every counter and gauge, once each (metrics_test); the latency histogram
// is written apart, in prometheus_text.
const Family kFamilies[] = {
    {"spotauth_logins_total",
     "counter",
     "Completed sign-in callbacks by result.",
     {{"result=\"ok\"", kLoginsOk}, {"result=\"failed\"", kLoginsFailed}}},
    {"spotauth_sessions_rejected_total",
     "counter",
     "Requests to protected locations without a usable session, by reason.",
     {{"reason=\"absent\"", kRejectedAbsent},
      {"reason=\"invalid\"", kRejectedInvalid},
      {"reason=\"expired\"", kRejectedExpired},
      {"reason=\"revoked\"", kRejectedRevoked}}},
    {"spotauth_refreshes_total",
     "counter",
     "Token-endpoint refresh calls by result.",
     {{"result=\"ok\"", kRefreshOk},
      {"result=\"permanent_failure\"", kRefreshPermanent},
      {"result=\"transient_failure\"", kRefreshTransient},
      {"result=\"misconfigured\"", kRefreshMisconfigured}}},
    {"spotauth_refresh_singleflight_joins_total",
     "counter",
     "Requests that waited on a refresh already in flight in their worker.",
     {{"", kRefreshJoined}}},
    {"spotauth_refresh_cache_hits_total",
     "counter",
     "Requests answered from the shared memory of recent refreshes.",
     {{"", kRefreshCacheHits}}},
    {"spotauth_refresh_remote_waits_total",
     "counter",
     "Requests that waited on another worker's refresh.",
     {{"", kRefreshRemoteWaits}}},
    {"spotauth_refresh_claims_unrecorded_total",
     "counter",
     "Refresh claims a full zone could not record (coordinated within their worker only).",
     {{"", kRefreshClaimsUnrecorded}}},
    {"spotauth_login_replays_total",
     "counter",
     "Callbacks refused because their login state was already spent.",
     {{"", kLoginReplays}}},
    {"spotauth_code_exchanges_limited_total",
     "counter",
     "Callbacks refused (429) by spotauth_exchange_limit before any code exchange.",
     {{"", kCodeExchangesLimited}}},
    {"spotauth_redis_errors_total",
     "counter",
     "Error replies from spotauth_redis by kind (out of memory, read-only replica, authentication, loading).",
     {{"reply=\"oom\"", kRedisErrorsOom},
      {"reply=\"readonly\"", kRedisErrorsReadonly},
      {"reply=\"noauth\"", kRedisErrorsNoauth},
      {"reply=\"loading\"", kRedisErrorsLoading},
      {"reply=\"other\"", kRedisErrorsOther}}},
    {"spotauth_fleet_values_refused_total",
     "counter",
     "Values in spotauth_redis that did not open under the key they were found at (moved, replayed or forged).",
     {{"", kFleetValuesRefused}}},
    {"spotauth_fleet_logouts_dropped_total",
     "counter",
     "Logouts not kept for spotauth_redis because a worker's outbox was full.",
     {{"", kFleetLogoutsDropped}}},
    {"spotauth_fleet_logouts_pending",
     "gauge",
     "Logouts waiting for spotauth_redis to acknowledge them (retried until it does).",
     {{"", kFleetLogoutsPending}}},
    {"spotauth_revocations_evicted_total",
     "counter",
     "Logouts a full zone could not keep: the revocation floor was raised to cover them instead.",
     {{"", kRevocationsEvicted}}},
    {"spotauth_token_calls_in_flight", "gauge", "Token-endpoint calls now in progress.", {{"", kTokenCallsInFlight}}},
    {"spotauth_redis_up",
     "gauge",
     "1 when every worker of this machine is connected to spotauth_redis; 0 otherwise or without it.",
     {{"", kRedisUp}}},
    {"spotauth_revocation_floor_seconds",
     "gauge",
     "Sessions that began before this Unix time are refused (0: none); raised when the zone is full of logouts.",
     {{"", kRevocationFloor}}},
};

}  // namespace

Counter latency_bucket(double seconds) {
    std::size_t i = 0;
    while (i < kLatencyBounds.size() && seconds > kLatencyBounds[i]) {
        ++i;
    }
    return static_cast<Counter>(kLatencyBucketFirst + i);
}

std::string prometheus_text(const CounterValues& v) {
    std::ostringstream out;
    for (const Family& f : kFamilies) {
        family(out, f.name, f.type, f.help);
        for (const auto& [labels, counter] : f.samples) {
            sample(out, f.name, labels, v[counter]);
        }
    }

    family(out, "spotauth_token_endpoint_seconds", "histogram",
           "Latency of token-endpoint calls (code exchange and refresh).");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= kLatencyBounds.size(); ++i) {
        cumulative += v[kLatencyBucketFirst + i];
        out << "spotauth_token_endpoint_seconds_bucket{le=\"";
        if (i < kLatencyBounds.size()) {
            out << kLatencyBounds[i];
        } else {
            out << "+Inf";
        }
        out << "\"} " << cumulative << '\n';
    }
    out << "spotauth_token_endpoint_seconds_sum " << static_cast<double>(v[kLatencySumMicros]) / 1e6 << '\n';
    sample(out, "spotauth_token_endpoint_seconds_count", "", v[kLatencyCount]);
    return out.str();
}

}  // namespace spotauth
