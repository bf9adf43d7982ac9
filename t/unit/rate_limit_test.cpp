#include "spotauth/rate_limit.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

TEST(RateLimiter, AllowsABurstThenRefillsEvenly) {
    RateLimiter limit(6, 100);  // one every 10 s
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(limit.take("10.0.0.1", 0), 0) << i;
    }
    EXPECT_EQ(limit.take("10.0.0.1", 0), 10'000);
    EXPECT_EQ(limit.take("10.0.0.1", 4'000), 6'000);
    EXPECT_EQ(limit.take("10.0.0.1", 10'000), 0);
    EXPECT_GT(limit.take("10.0.0.1", 10'000), 0);
}

TEST(RateLimiter, KeysAreIndependent) {
    RateLimiter limit(1, 100);
    EXPECT_EQ(limit.take("a", 0), 0);
    EXPECT_GT(limit.take("a", 0), 0);
    EXPECT_EQ(limit.take("b", 0), 0);
}

TEST(RateLimiter, ForgetsTheLeastRecentlySeenKey) {
    RateLimiter limit(1, 2);
    EXPECT_EQ(limit.take("a", 0), 0);
    EXPECT_EQ(limit.take("b", 0), 0);
    EXPECT_GT(limit.take("a", 0), 0);  // a is now the most recent
    EXPECT_EQ(limit.take("c", 0), 0);  // forgets b
    EXPECT_GT(limit.take("a", 0), 0);
    EXPECT_EQ(limit.take("b", 0), 0);  // b starts afresh
}

TEST(RateLimiter, ZeroAllowsNothing) {
    RateLimiter limit(0, 10);
    EXPECT_GT(limit.take("a", 0), 0);
}
