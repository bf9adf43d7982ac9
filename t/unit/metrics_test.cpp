#include "spotauth/metrics.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

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

// Every counter and gauge below the latency histogram, given its own value,
// shows up in exactly one sample line of the exposition (kFamilies in
// src/metrics.cpp): a Counter added without a row, or listed twice, fails.
TEST(PrometheusText, ExportsEveryCounterAndGaugeOnce) {
    constexpr std::uint64_t kBase = 1000000;
    CounterValues v{};
    for (std::size_t c = 0; c < kLatencyBucketFirst; ++c) {
        v[c] = kBase + c;
    }
    std::map<std::uint64_t, int> seen;
    std::istringstream text(prometheus_text(v));
    for (std::string line; std::getline(text, line);) {
        if (!line.empty() && line[0] != '#') {
            ++seen[std::stoull(line.substr(line.rfind(' ') + 1))];
        }
    }
    for (std::size_t c = 0; c < kLatencyBucketFirst; ++c) {
        EXPECT_EQ(seen[kBase + c], 1) << "Counter " << c << " is not exported exactly once";
    }
}

namespace {

// The metric families the exposition names ("# TYPE name ...").
std::vector<std::string> exported_families() {
    std::vector<std::string> names;
    std::istringstream text(prometheus_text(CounterValues{}));
    for (std::string line; std::getline(text, line);) {
        if (line.rfind("# TYPE ", 0) == 0) {
            names.push_back(line.substr(7, line.find(' ', 7) - 7));
        }
    }
    return names;
}

// docs/operations.md's "Metrics" section, from its heading to the next one.
std::string documented_metrics() {
    std::ifstream file(std::string(SPOTAUTH_SOURCE_DIR) + "/docs/operations.md");
    std::ostringstream all;
    all << file.rdbuf();
    const std::string doc = all.str();
    const std::size_t begin = doc.find("\n## Metrics");
    if (begin == std::string::npos) {
        return {};
    }
    return doc.substr(begin, doc.find("\n## ", begin + 1) - begin);
}

}  // namespace

// Each family is named there in backquotes, alone or with its labels.
TEST(PrometheusText, EveryFamilyIsDocumented) {
    const std::string section = documented_metrics();
    ASSERT_FALSE(section.empty()) << "docs/operations.md has no \"## Metrics\" section";
    const std::vector<std::string> families = exported_families();
    EXPECT_GT(families.size(), 10u);
    for (const std::string& name : families) {
        const bool named =
            section.find("`" + name + "`") != std::string::npos || section.find("`" + name + "{") != std::string::npos;
        EXPECT_TRUE(named) << name << " is not in docs/operations.md's Metrics section";
    }
}
