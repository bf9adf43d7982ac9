// Logouts across the fleet against a fake Redis: kept and retried until
// Redis really takes them; read in pages from an inclusive cursor, so none
// is missed and none is read twice.
#include "fake_redis.hpp"

#include "spotauth/fleet_revocations.hpp"

#include <gtest/gtest.h>

using namespace spotauth;
using spotauth::testing::FakeRedis;

namespace {

constexpr UnixTime kNow = 1'700'000'000;

struct RevocationsTest : ::testing::Test {
    FakeRedis redis;
    std::int64_t now = kNow * 1000;
    std::vector<std::pair<std::string, UnixTime>> learned;
    std::unique_ptr<FleetRevocations> fleet = make(3);

    std::unique_ptr<FleetRevocations> make(std::size_t page) {
        RevocationTiming timing;
        timing.page = page;
        timing.lifetime_ms = 86400000;
        return std::make_unique<FleetRevocations>(
            redis, [this] { return now; }, timing,
            [this](const std::string& sid, UnixTime until) { learned.emplace_back(sid, until); });
    }

    // Answers the pending read with (member, score) pairs.
    std::vector<std::string> page(const std::vector<std::pair<std::string, std::string>>& members) {
        std::vector<RedisValue> elements;
        for (const auto& [member, score] : members) {
            elements.push_back(FakeRedis::string(member));
            elements.push_back(FakeRedis::string(score));
        }
        return redis.answer(FakeRedis::array(elements));
    }

    bool sent(const std::string& verb) const {
        for (const auto& s : redis.sent) {
            if (s.argv[0] == verb) {
                return true;
            }
        }
        return false;
    }
};

}  // namespace

TEST_F(RevocationsTest, ALogoutIsRecordedAtRedisTimeAndPrunedAtTheSessionLifetime) {
    fleet->revoke("sid-1", kNow + 3600, kNow);
    const auto& argv = redis.next();
    EXPECT_EQ(argv[0], "EVAL");
    EXPECT_NE(argv[1].find("ZREMRANGEBYSCORE"), std::string::npos);
    EXPECT_NE(argv[1].find("'ZADD', KEYS[1], 'NX'"), std::string::npos);  // sent again: not read again
    EXPECT_EQ(argv[3], "spotauth:revoked");
    EXPECT_EQ(argv[4], "sid-1 " + std::to_string(kNow + 3600));
    EXPECT_EQ(argv[5], "86400000");  // not a year
    redis.answer(FakeRedis::integer(now));
    EXPECT_EQ(fleet->outbox_size(), 0u);
}

TEST_F(RevocationsTest, ALogoutRedisRefusedIsSentAgainUntilItIsTaken) {
    fleet->revoke("sid-1", kNow + 3600, kNow);
    redis.answer("EVAL", FakeRedis::error("OOM command not allowed when used memory > 'maxmemory'."));
    EXPECT_EQ(fleet->outbox_size(), 1u);
    fleet->tick(kNow);  // not yet: backoff
    EXPECT_FALSE(sent("EVAL"));
    now += 100;
    fleet->tick(kNow);
    redis.answer("EVAL", std::nullopt);  // no answer in time
    EXPECT_EQ(fleet->outbox_size(), 1u);
    now += 200;
    fleet->tick(kNow);
    redis.answer("EVAL", FakeRedis::status("OK"));  // not the score EVAL returns: no acknowledgement
    EXPECT_EQ(fleet->outbox_size(), 1u);
    now += 399;
    fleet->tick(kNow);
    EXPECT_FALSE(sent("EVAL"));  // backing off: 100, 200, 400 ms...
    now += 1;
    fleet->tick(kNow);
    redis.answer("EVAL", FakeRedis::integer(now));
    EXPECT_EQ(fleet->outbox_size(), 0u);
}

TEST_F(RevocationsTest, WhileRedisIsDownLogoutsWaitThenGoOutWhenItComesBack) {
    redis.is_up = false;
    fleet->revoke("sid-1", kNow + 3600, kNow);
    redis.answer(std::nullopt);  // the client answers "unavailable"
    for (int i = 0; i < 50; ++i) {
        now += 100;
        fleet->tick(kNow);
    }
    EXPECT_TRUE(redis.sent.empty());
    EXPECT_EQ(fleet->outbox_size(), 1u);
    redis.is_up = true;
    fleet->connected();
    fleet->tick(kNow);
    ASSERT_TRUE(sent("EVAL"));
}

TEST_F(RevocationsTest, ALogoutOfASessionThatEndedAnywayIsDropped) {
    fleet->revoke("sid-old", kNow - 1, kNow);
    EXPECT_TRUE(redis.sent.empty());
    fleet->revoke("sid-1", kNow + 10, kNow);
    redis.answer(std::nullopt);
    fleet->tick(kNow + 11);
    EXPECT_EQ(fleet->outbox_size(), 0u);
}

TEST_F(RevocationsTest, ReadsArePagedFromAnInclusiveCursor) {
    fleet->tick(kNow);
    EXPECT_EQ(redis.next(), (std::vector<std::string>{"ZRANGEBYSCORE", "spotauth:revoked", "-inf", "+inf", "WITHSCORES",
                                                      "LIMIT", "0", "3"}));
    // A full page: the next one is read at once, from the last score, inclusive.
    page({{"a 2000000000", "100"}, {"b 2000000000", "101"}, {"c 2000000000", "102"}});
    EXPECT_EQ(redis.next()[2], "102");
    EXPECT_FALSE(fleet->caught_up());
    page({{"c 2000000000", "102"}, {"d 2000000000", "102"}});
    EXPECT_TRUE(fleet->caught_up());
    ASSERT_EQ(learned.size(), 4u);  // c once
    EXPECT_EQ(learned[3].first, "d");
    EXPECT_EQ(learned[3].second, 2000000000);
}

TEST_F(RevocationsTest, TwoLogoutsInTheSameMillisecondAreBothLearned) {
    fleet->tick(kNow);
    page({{"a 2000000000", "500"}});
    now += 500;
    fleet->tick(kNow);
    EXPECT_EQ(redis.next()[2], "500");  // not "(500"
    page({{"a 2000000000", "500"}, {"b 2000000000", "500"}});
    ASSERT_EQ(learned.size(), 2u);
    EXPECT_EQ(learned[1].first, "b");
}

TEST_F(RevocationsTest, APageAllAtOneScoreMovesOnByOffset) {
    fleet->tick(kNow);
    page({{"a 2000000000", "7"}, {"b 2000000000", "7"}, {"c 2000000000", "7"}});
    EXPECT_EQ(redis.next()[2], "7");
    EXPECT_EQ(redis.next()[6], "3");  // skips the three read
    page({{"d 2000000000", "7"}});
    EXPECT_EQ(learned.size(), 4u);
}

TEST_F(RevocationsTest, BadMembersAndBadRepliesAreSkipped) {
    fleet->tick(kNow);
    page({{"no-until", "1"}, {" 5", "2"}, {"x 12ab", "3"}, {"ok 2000000000", "4"}});
    ASSERT_EQ(learned.size(), 1u);
    now += 500;
    fleet->tick(kNow);
    redis.answer(FakeRedis::error("LOADING Redis is loading the dataset in memory"));
    now += 500;
    fleet->tick(kNow);
    EXPECT_EQ(redis.next()[2], "4");  // the cursor stayed
}

TEST_F(RevocationsTest, NothingRunsAfterItIsGone) {
    fleet->revoke("sid-1", kNow + 3600, kNow);
    fleet->tick(kNow);
    EXPECT_EQ(redis.sent.size(), 2u);
    fleet.reset();
    EXPECT_TRUE(redis.sent.empty());
    EXPECT_EQ(redis.cancelled, 2);
}

TEST_F(RevocationsTest, AFullOutboxDropsAndCounts) {
    RevocationTiming timing;
    timing.outbox_limit = 2;
    FleetRevocations small(
        redis, [this] { return now; }, timing, [](const std::string&, UnixTime) {});
    for (int i = 0; i < 3; ++i) {
        small.revoke("sid-" + std::to_string(i), kNow + 3600, kNow);
    }
    EXPECT_EQ(small.outbox_size(), 2u);
    EXPECT_EQ(small.dropped(), 1u);
}

TEST(RevocationMember, Parses) {
    const auto m = parse_revocation_member("abc 123");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sid, "abc");
    EXPECT_EQ(m->until, 123);
    EXPECT_FALSE(parse_revocation_member("abc"));
    EXPECT_FALSE(parse_revocation_member(" 123"));
    EXPECT_FALSE(parse_revocation_member("abc 12x"));
    EXPECT_FALSE(parse_revocation_member("abc "));
}
