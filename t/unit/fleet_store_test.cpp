// RedisFleetStore against a fake Redis: results that were moved, swapped
// or replayed between users or across time never open; claims are ended
// only by their owner; an error reply is never taken for an answer.
#include "fake_redis.hpp"

#include "spotauth/fleet.hpp"

#include <gtest/gtest.h>

using namespace spotauth;
using spotauth::testing::FakeRedis;

namespace {

constexpr MilliTime kWindow = 30000;

struct FleetStoreTest : ::testing::Test {
    FakeRedis redis;
    MilliTime now = 1'700'000'000'000;
    int tampered = 0;
    RedisFleetStore store{redis, [this] { return now; }, [this] { ++tampered; }};
    KeyRing keys{{make_key(std::string(32, 'k'))}};
    std::vector<FleetStore::Answer> answers;

    ClaimRequest request(const std::string& refresh_token) const {
        ClaimRequest r;
        r.now = now;
        r.claim_deadline = now + 5000;
        r.cache_window = kWindow;
        r.fresh_until = now / 1000 + 60;
        r.refresh_token = refresh_token;
        return r;
    }

    void claim(const std::string& key, const std::string& refresh_token) {
        store.claim(key, request(refresh_token), keys, [this](const FleetStore::Answer& a) { answers.push_back(a); });
    }

    static RefreshResult result_of(const std::string& user) {
        RefreshResult r;
        r.outcome = TokenOutcome::ok;
        r.access_token = "BQ-" + user;
        r.refresh_token = "AQ-" + user + "-2";
        r.access_expires_at = 1'700'003'600;
        r.access_issued_at = 1'700'000'000;
        return r;
    }

    // What `user`'s machine leaves in Redis after its refresh: the sealed
    // result the SET carried.
    std::string published_by(const std::string& key, const std::string& user) {
        claim(key, "AQ-" + user);
        redis.answer(FakeRedis::array({FakeRedis::string("acquired")}));
        store.publish(key, result_of(user), keys, kWindow);
        const auto set = redis.answer(FakeRedis::status("OK"));
        redis.answer(FakeRedis::integer(1));  // the claim's release
        answers.clear();
        return set.at(2);
    }

    // `key`'s claim finds `value` stored under its result key.
    void claim_finds(const std::string& key, const std::string& refresh_token, const std::string& value) {
        claim(key, refresh_token);
        redis.answer(FakeRedis::array({FakeRedis::string("result"), FakeRedis::string(value)}));
    }
};

}  // namespace

TEST_F(FleetStoreTest, AResultIsUsedUnderItsOwnKey) {
    const std::string alice = published_by("key-alice", "alice");
    claim_finds("key-alice", "AQ-alice", alice);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::cached);
    EXPECT_EQ(answers[0].cached.access_token, "BQ-alice");
    EXPECT_EQ(tampered, 0);
}

TEST_F(FleetStoreTest, AResultCopiedToAnotherUsersKeyIsAbsent) {
    const std::string alice = published_by("key-alice", "alice");
    claim_finds("key-bob", "AQ-bob", alice);
    EXPECT_TRUE(answers.empty());  // not cached: Bob's machine claims and calls with Bob's token
    ASSERT_EQ(redis.sent.size(), 1u);
    EXPECT_EQ(redis.next()[0], "SET");
    EXPECT_EQ(redis.next()[1], "spotauth:claim:key-bob");
    redis.answer(FakeRedis::status("OK"));
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::acquired);
    EXPECT_EQ(tampered, 1);
}

TEST_F(FleetStoreTest, SwappedResultsOpenForNeither) {
    const std::string alice = published_by("key-alice", "alice");
    const std::string bob = published_by("key-bob", "bob");
    claim_finds("key-alice", "AQ-alice", bob);
    redis.answer(FakeRedis::status("OK"));
    claim_finds("key-bob", "AQ-bob", alice);
    redis.answer(FakeRedis::status("OK"));
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::acquired);
    EXPECT_EQ(answers[1].kind, FleetStore::Kind::acquired);
    EXPECT_EQ(tampered, 2);
}

TEST_F(FleetStoreTest, AnOldResultReplayedAfterItsWindowIsNotUsed) {
    const std::string old = published_by("key-carol", "carol");
    now += kWindow + 1;  // Redis would have expired it; whoever wrote it back did not
    claim_finds("key-carol", "AQ-carol", old);
    redis.answer(FakeRedis::status("OK"));
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::acquired);
}

TEST_F(FleetStoreTest, AnOldResultReplayedToAnotherUserIsNotUsedEvenInItsWindow) {
    const std::string carols = published_by("key-carol", "carol");
    now += 1000;
    claim_finds("key-dave", "AQ-dave", carols);
    redis.answer(FakeRedis::status("OK"));
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::acquired);
}

TEST_F(FleetStoreTest, AResultFromTheFutureIsRefused) {
    now += 60000;
    const std::string future = published_by("key-erin", "erin");
    now -= 60000;
    claim_finds("key-erin", "AQ-erin", future);
    redis.answer(FakeRedis::status("OK"));
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::acquired);
    EXPECT_EQ(tampered, 1);
}

TEST_F(FleetStoreTest, AnInvalidGrantCopiedFromAnotherUserLogsNobodyOut) {
    claim("key-frank", "AQ-frank");
    redis.answer(FakeRedis::array({FakeRedis::string("acquired")}));
    RefreshResult refused;
    refused.outcome = TokenOutcome::permanent;
    refused.error = "invalid_grant";
    store.publish("key-frank", refused, keys, kWindow);
    const std::string franks = redis.answer(FakeRedis::status("OK")).at(2);
    redis.answer(FakeRedis::integer(1));
    answers.clear();
    claim_finds("key-grace", "AQ-grace", franks);
    redis.answer(FakeRedis::status("OK"));
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::acquired);
}

TEST_F(FleetStoreTest, AClaimIsReleasedOnlyWithItsOwnersToken) {
    claim("key-a", "AQ-a");
    const std::string owner = redis.next().at(5);
    EXPECT_GE(owner.size(), 20u);  // random, not "1"
    redis.answer(FakeRedis::array({FakeRedis::string("acquired")}));
    store.release("key-a");
    ASSERT_EQ(redis.sent.size(), 1u);
    const auto release = redis.next();
    EXPECT_EQ(release[0], "EVAL");
    EXPECT_NE(release[1].find("redis.call('GET', KEYS[1]) == ARGV[1]"), std::string::npos);
    EXPECT_EQ(release[3], "spotauth:claim:key-a");
    EXPECT_EQ(release[4], owner);
    redis.answer(FakeRedis::integer(0));
    // Released once: nothing more to end.
    store.release("key-a");
    EXPECT_TRUE(redis.sent.empty());
}

TEST_F(FleetStoreTest, EveryClaimHasItsOwnOwner) {
    claim("key-a", "AQ-a");
    const std::string first = redis.next().at(5);
    redis.answer(FakeRedis::array({FakeRedis::string("busy")}));
    claim("key-a", "AQ-a");
    EXPECT_NE(redis.next().at(5), first);
}

TEST_F(FleetStoreTest, ABusyOrUnansweredClaimReleasesNothing) {
    claim("key-a", "AQ-a");
    redis.answer(FakeRedis::array({FakeRedis::string("busy")}));
    store.release("key-a");  // another machine's claim: not ours to delete
    claim("key-b", "AQ-b");
    redis.answer(std::nullopt);
    store.release("key-b");
    EXPECT_TRUE(redis.sent.empty());
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::busy);
    EXPECT_EQ(answers[1].kind, FleetStore::Kind::unavailable);
}

TEST_F(FleetStoreTest, ErrorRepliesAreNeverAnAnswer) {
    const std::string alice = published_by("key-alice", "alice");
    claim("key-a", "AQ-a");
    redis.answer(FakeRedis::error("OOM command not allowed when used memory > 'maxmemory'."));
    claim_finds("key-b", "AQ-b", alice);                     // refused, so it tries to SET NX the claim...
    redis.answer(FakeRedis::error("READONLY You can't write against a read only replica."));
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0].kind, FleetStore::Kind::unavailable);
    EXPECT_EQ(answers[1].kind, FleetStore::Kind::unavailable);  // ...which is not "acquired"
}

TEST_F(FleetStoreTest, PublishEndsOnlyOurClaim) {
    store.publish("key-never-claimed", result_of("x"), keys, kWindow);
    ASSERT_EQ(redis.sent.size(), 1u);  // the result only: no DEL of someone's claim
    EXPECT_EQ(redis.next()[0], "SET");
}
