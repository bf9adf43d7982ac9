// The claim protocol's decisions (src/refresh_store.cpp); the protocol over
// a store's records and the coordinator above it are in refresh_test.cpp.
#include "spotauth/refresh_store.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace spotauth;

TEST(RefreshKey, IsAHashNotTheToken) {
    EXPECT_EQ(refresh_key("AQ-secret").find("AQ"), std::string::npos);
    EXPECT_EQ(refresh_key("a"), refresh_key("a"));
    EXPECT_NE(refresh_key("a"), refresh_key("b"));
}

TEST(DecideClaim, Cases) {
    ClaimRequest req;
    req.now = 10'000;
    req.cache_window = 30'000;
    req.fresh_until = 100;
    EXPECT_EQ(decide_claim(nullptr, req), ClaimKind::acquired);

    StoredRefresh flying{true, 12'000, 0, {}};
    EXPECT_EQ(decide_claim(&flying, req), ClaimKind::busy);
    flying.claim_deadline = 10'000;
    EXPECT_EQ(decide_claim(&flying, req), ClaimKind::acquired);  // claimer gave up

    StoredRefresh done{false, 0, 5'000, {}};
    done.result.outcome = TokenOutcome::ok;
    done.result.access_token = "BQ";
    done.result.access_expires_at = 200;
    EXPECT_EQ(decide_claim(&done, req), ClaimKind::cached);
    req.stale_access_token = "BQ";
    EXPECT_EQ(decide_claim(&done, req), ClaimKind::acquired);  // that token was just refused
    req.stale_access_token.clear();
    req.fresh_until = 200;
    EXPECT_EQ(decide_claim(&done, req), ClaimKind::acquired);  // cached token too old
    req.fresh_until = 100;
    req.now = 35'000;
    EXPECT_EQ(decide_claim(&done, req), ClaimKind::acquired);  // outside the window

    StoredRefresh revoked{false, 0, 5'000, {}};
    revoked.result.outcome = TokenOutcome::permanent;
    req.now = 10'000;
    EXPECT_EQ(decide_claim(&revoked, req), ClaimKind::cached);
}

TEST(DecideClaim, ATooOldResultThatRotatedTheTokenSentContinuesTheChain) {
    ClaimRequest req;
    req.now = 10'000;
    req.cache_window = 30'000;
    req.fresh_until = 200;
    req.refresh_token = "AQ-old";
    StoredRefresh done{false, 0, 5'000, {}};
    done.result.outcome = TokenOutcome::ok;
    done.result.access_token = "BQ";
    done.result.refresh_token = "AQ-new";
    done.result.access_expires_at = 200;
    EXPECT_EQ(decide_claim(&done, req), ClaimKind::chained);  // its access token is due too
    req.fresh_until = 100;
    req.stale_access_token = "BQ";
    EXPECT_EQ(decide_claim(&done, req), ClaimKind::chained);  // its access token was refused
    req.refresh_token = "AQ-new";
    EXPECT_EQ(decide_claim(&done, req), ClaimKind::acquired);  // not rotated: AQ-new is still good
    req.refresh_token = "AQ-old";
    req.now = 35'000;
    EXPECT_EQ(decide_claim(&done, req), ClaimKind::acquired);  // outside the window: the chain is forgotten
}

TEST(KeepsEarlierResult, InvalidGrantNeverReplacesAFreshSuccess) {
    RefreshResult ok;
    ok.outcome = TokenOutcome::ok;
    RefreshResult refused;
    refused.outcome = TokenOutcome::permanent;
    const StoredRefresh done{false, 0, 1000, ok};
    EXPECT_TRUE(keeps_earlier_result(&done, refused, 1000 + 29'999, 30'000));
    EXPECT_FALSE(keeps_earlier_result(&done, refused, 1000 + 30'000, 30'000));  // window over
    EXPECT_FALSE(keeps_earlier_result(&done, ok, 1001, 30'000));                // a newer success
    EXPECT_FALSE(keeps_earlier_result(nullptr, refused, 1001, 30'000));
    const StoredRefresh claim{true, 5000, 0, {}};
    EXPECT_FALSE(keeps_earlier_result(&claim, refused, 1001, 30'000));  // our own claim
    const StoredRefresh dead{false, 0, 1000, refused};
    EXPECT_FALSE(keeps_earlier_result(&dead, refused, 1001, 30'000));
}
