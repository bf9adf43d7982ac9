#include "spotauth/metrics.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

TEST(LatencyBucket, UpperBoundsAreInclusive) {
    EXPECT_EQ(latency_bucket(0.0), kLatencyBucketFirst);
    EXPECT_EQ(latency_bucket(0.05), kLatencyBucketFirst);
    EXPECT_EQ(latency_bucket(0.051), kLatencyBucketFirst + 1);
    EXPECT_EQ(latency_bucket(10), kLatencyBucketFirst + 7);
    EXPECT_EQ(latency_bucket(11), kLatencyBucketLast);
}

TEST(PrometheusText, CountersAndCumulativeHistogram) {
    CounterValues v{};
    v[kLoginsOk] = 3;
    v[kRejectedInvalid] = 2;
    v[kRefreshTransient] = 1;
    v[kTokenCallsInFlight] = 1;
    v[latency_bucket(0.02)] += 2;
    v[latency_bucket(0.3)] += 1;
    v[latency_bucket(60)] += 1;
    v[kLatencySumMicros] = 60'340'000;
    v[kLatencyCount] = 4;
    const std::string text = prometheus_text(v);
    EXPECT_NE(text.find("# TYPE spotauth_logins_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_logins_total{result=\"ok\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_sessions_rejected_total{reason=\"invalid\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_refreshes_total{result=\"transient_failure\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_token_calls_in_flight 1\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_token_endpoint_seconds_bucket{le=\"0.05\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_token_endpoint_seconds_bucket{le=\"0.25\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_token_endpoint_seconds_bucket{le=\"0.5\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_token_endpoint_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_token_endpoint_seconds_sum 60.34\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_token_endpoint_seconds_count 4\n"), std::string::npos);
}
