// Spent login states across the fleet, and Redis's error replies watched:
// an error reply never decides a login, and it is counted and reported once
// per outage.
#include "fake_redis.hpp"

#include "spotauth/fleet_logins.hpp"
#include "spotauth/redis_watch.hpp"

#include <gtest/gtest.h>

using namespace spotauth;
using spotauth::testing::FakeRedis;

TEST(LoginStateFresh, AStateSpentHereIsRefusedWhateverTheFleetSays) {
    EXPECT_FALSE(login_state_fresh(SpendAnswer::spent, SpendAnswer::fresh));
    EXPECT_FALSE(login_state_fresh(SpendAnswer::spent, SpendAnswer::unknown));
}

TEST(LoginStateFresh, TheFleetDecidesWhenItAnswers) {
    EXPECT_TRUE(login_state_fresh(SpendAnswer::fresh, SpendAnswer::fresh));
    EXPECT_TRUE(login_state_fresh(SpendAnswer::unknown, SpendAnswer::fresh));  // a login made on another machine
    EXPECT_FALSE(login_state_fresh(SpendAnswer::fresh, SpendAnswer::spent));   // replayed after use elsewhere
    EXPECT_FALSE(login_state_fresh(SpendAnswer::unknown, SpendAnswer::spent));
}

TEST(LoginStateFresh, RedisTroubleLeavesItToTheMachine) {
    EXPECT_TRUE(login_state_fresh(SpendAnswer::fresh, SpendAnswer::unknown));
    EXPECT_FALSE(login_state_fresh(SpendAnswer::unknown, SpendAnswer::unknown));
}

namespace {

struct SpendTest : ::testing::Test {
    FakeRedis redis;
    FleetLoginStates logins{redis};
    std::vector<SpendAnswer> answers;

    void spend() {
        logins.spend("state-key", 42000, [this](SpendAnswer a) { answers.push_back(a); });
    }
};

}  // namespace

TEST_F(SpendTest, SetsTheSpentKeyOnceForTheLoginsLifetime) {
    spend();
    EXPECT_TRUE(answers.empty());  // never from inside spend()
    EXPECT_EQ(redis.next(), (std::vector<std::string>{"SET", "spotauth:spent:state-key", "1", "NX", "PX", "42000"}));
    redis.answer(FakeRedis::status("OK"));
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0], SpendAnswer::fresh);
}

TEST_F(SpendTest, AlreadySetMeansSpentElsewhere) {
    spend();
    redis.answer(FakeRedis::nil());
    EXPECT_EQ(answers.at(0), SpendAnswer::spent);
}

TEST_F(SpendTest, ErrorRepliesAndSilenceAreUnknown) {
    for (const char* error :
         {"OOM command not allowed when used memory > 'maxmemory'.",
          "READONLY You can't write against a read only replica.", "NOAUTH Authentication required.",
          "LOADING Redis is loading the dataset in memory", "ERR unknown command"}) {
        spend();
        redis.answer(FakeRedis::error(error));
    }
    spend();
    redis.answer(std::nullopt);
    spend();
    redis.answer(FakeRedis::integer(1));  // not what SET answers: not taken for anything
    EXPECT_EQ(answers, std::vector<SpendAnswer>(7, SpendAnswer::unknown));
}

TEST(RedisErrorKind, NamedByTheirCode) {
    EXPECT_EQ(redis_error_kind("OOM command not allowed when used memory > 'maxmemory'."), RedisErrorKind::oom);
    EXPECT_EQ(redis_error_kind("READONLY You can't write against a read only replica."), RedisErrorKind::readonly);
    EXPECT_EQ(redis_error_kind("NOAUTH Authentication required."), RedisErrorKind::noauth);
    EXPECT_EQ(redis_error_kind("WRONGPASS invalid username-password pair"), RedisErrorKind::noauth);
    EXPECT_EQ(redis_error_kind("LOADING Redis is loading the dataset in memory"), RedisErrorKind::loading);
    EXPECT_EQ(redis_error_kind("ERR wrong number of arguments"), RedisErrorKind::other);
    EXPECT_EQ(redis_error_kind("OOMX"), RedisErrorKind::other);
    EXPECT_EQ(redis_error_kind(""), RedisErrorKind::other);
    EXPECT_STREQ(redis_error_label(RedisErrorKind::oom), "oom");
    EXPECT_STREQ(redis_error_label(RedisErrorKind::other), "other");
}

namespace {

struct WatchTest : ::testing::Test {
    FakeRedis redis;
    std::int64_t now = 1000;
    std::vector<std::pair<RedisErrorKind, bool>> reports;
    RedisErrorWatch watch{
        redis, [this] { return now; },
        [this](RedisErrorKind k, bool starts, const std::string&) { reports.emplace_back(k, starts); }};
    std::vector<std::optional<RedisValue>> replies;

    void send(const std::optional<RedisValue>& reply) {
        watch.command({"SET", "k", "v"}, [this](const std::optional<RedisValue>& v) { replies.push_back(v); });
        redis.answer(reply);
    }
};

}  // namespace

TEST_F(WatchTest, ErrorRepliesAreReportedOncePerOutageAndPassedOn) {
    EXPECT_FALSE(watch.refusing());
    send(FakeRedis::status("OK"));
    EXPECT_TRUE(reports.empty());
    send(FakeRedis::error("OOM command not allowed"));
    now += 1000;
    send(FakeRedis::error("OOM command not allowed"));
    send(FakeRedis::error("READONLY You can't write"));
    ASSERT_EQ(reports.size(), 3u);   // each counted...
    EXPECT_TRUE(reports[0].second);  // ...the first one logged
    EXPECT_FALSE(reports[1].second);
    EXPECT_FALSE(reports[2].second);
    EXPECT_EQ(reports[2].first, RedisErrorKind::readonly);
    EXPECT_TRUE(watch.refusing());
    ASSERT_EQ(replies.size(), 4u);
    EXPECT_EQ(replies[1]->kind, RedisValue::Kind::error);  // the caller sees the error too
    now += kRedisRefusingMs;
    EXPECT_FALSE(watch.refusing());
    send(FakeRedis::error("LOADING Redis is loading"));
    EXPECT_TRUE(reports.back().second);  // a new outage
}

TEST_F(WatchTest, CancelReachesTheClient) {
    const auto id = watch.command({"PING"}, [](const std::optional<RedisValue>&) { FAIL(); });
    watch.cancel(id);
    EXPECT_TRUE(redis.sent.empty());
    EXPECT_EQ(redis.cancelled, 1);
}
