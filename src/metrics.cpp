#include "spotauth/metrics.hpp"

#include <sstream>

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
    family(out, "spotauth_logins_total", "counter", "Completed sign-in callbacks by result.");
    sample(out, "spotauth_logins_total", "result=\"ok\"", v[kLoginsOk]);
    sample(out, "spotauth_logins_total", "result=\"failed\"", v[kLoginsFailed]);

    family(out, "spotauth_sessions_rejected_total", "counter",
           "Requests to protected locations without a usable session, by reason.");
    sample(out, "spotauth_sessions_rejected_total", "reason=\"absent\"", v[kRejectedAbsent]);
    sample(out, "spotauth_sessions_rejected_total", "reason=\"invalid\"", v[kRejectedInvalid]);
    sample(out, "spotauth_sessions_rejected_total", "reason=\"expired\"", v[kRejectedExpired]);

    family(out, "spotauth_refreshes_total", "counter", "Token-endpoint refresh calls by result.");
    sample(out, "spotauth_refreshes_total", "result=\"ok\"", v[kRefreshOk]);
    sample(out, "spotauth_refreshes_total", "result=\"permanent_failure\"", v[kRefreshPermanent]);
    sample(out, "spotauth_refreshes_total", "result=\"transient_failure\"", v[kRefreshTransient]);
    sample(out, "spotauth_refreshes_total", "result=\"misconfigured\"", v[kRefreshMisconfigured]);

    family(out, "spotauth_refresh_singleflight_joins_total", "counter",
           "Requests that waited on a refresh already in flight in their worker.");
    sample(out, "spotauth_refresh_singleflight_joins_total", "", v[kRefreshJoined]);
    family(out, "spotauth_refresh_cache_hits_total", "counter",
           "Requests answered from the shared memory of recent refreshes.");
    sample(out, "spotauth_refresh_cache_hits_total", "", v[kRefreshCacheHits]);
    family(out, "spotauth_refresh_remote_waits_total", "counter",
           "Requests that waited on another worker's refresh.");
    sample(out, "spotauth_refresh_remote_waits_total", "", v[kRefreshRemoteWaits]);

    family(out, "spotauth_refresh_claims_unrecorded_total", "counter",
           "Refresh claims a full zone could not record (coordinated within their worker only).");
    sample(out, "spotauth_refresh_claims_unrecorded_total", "", v[kRefreshClaimsUnrecorded]);
    family(out, "spotauth_login_replays_total", "counter",
           "Callbacks refused because their login state was already used or is unknown.");
    sample(out, "spotauth_login_replays_total", "", v[kLoginReplays]);
    family(out, "spotauth_code_exchanges_limited_total", "counter",
           "Callbacks refused (429) by spotauth_exchange_limit before any code exchange.");
    sample(out, "spotauth_code_exchanges_limited_total", "", v[kCodeExchangesLimited]);

    family(out, "spotauth_token_calls_in_flight", "gauge", "Token-endpoint calls now in progress.");
    sample(out, "spotauth_token_calls_in_flight", "", v[kTokenCallsInFlight]);

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
