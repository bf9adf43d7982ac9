// src/fleet.cpp: refresh results sealed for Redis, the coordinator asking a
// fleet before calling the provider, and RedisFleetStore against a fake Redis.
#include "fake_redis.hpp"

#include "spotauth/fleet.hpp"
#include "spotauth/redis.hpp"
#include "spotauth/refresh.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace spotauth;
using spotauth::testing::FakeRedis;

namespace {

KeyRing ring(char fill) { return KeyRing({make_key(std::string(32, fill))}); }

}  // namespace

TEST(SealedRefreshResult, RoundTripsAndNeedsTheKey) {
    RefreshResult r;
    r.outcome = TokenOutcome::ok;
    r.access_token = "BQ-a";
    r.refresh_token = "AQ-r";
    r.access_expires_at = 1000;
    r.access_issued_at = 400;
    const KeyRing keys = ring('k');
    const auto sealed = seal_refresh_result(keys, "key-a", r, 1234);
    ASSERT_TRUE(sealed);
    EXPECT_EQ(sealed->find("AQ-r"), std::string::npos);  // never plaintext in Redis
    const auto opened = open_refresh_result(keys, "key-a", *sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->result.refresh_token, "AQ-r");
    EXPECT_EQ(opened->result.access_expires_at, 1000);
    EXPECT_EQ(opened->result.access_issued_at, 400);
    EXPECT_EQ(opened->stored_at, 1234);
    EXPECT_FALSE(open_refresh_result(ring('o'), "key-a", *sealed));
    EXPECT_FALSE(open_refresh_result(keys, "key-a", "garbage"));
}

TEST(SealedRefreshResult, OpensOnlyUnderTheKeyAndKindItWasSealedFor) {
    RefreshResult r;
    r.outcome = TokenOutcome::ok;
    r.refresh_token = "AQ-alice";
    const KeyRing keys = ring('k');
    const auto sealed = seal_refresh_result(keys, "key-alice", r, 1);
    ASSERT_TRUE(sealed);
    EXPECT_FALSE(open_refresh_result(keys, "key-bob", *sealed));  // moved to another user's key
    EXPECT_FALSE(open_refresh_result(keys, "", *sealed));
    EXPECT_FALSE(keys.open(*sealed));                     // not a session cookie either
    EXPECT_FALSE(keys.open_bound(*sealed, "key-alice"));  // another kind of record
    // ...and a session cookie is not a refresh result.
    const auto cookie = keys.seal(R"({"typ":"refresh","outcome":0})");
    ASSERT_TRUE(cookie);
    EXPECT_FALSE(open_refresh_result(keys, "key-alice", *cookie));
}

namespace {

class FakeTransport : public HttpTransport {
public:
    TransferId start(const HttpRequest&, Completion done) override {
        pending[++last] = std::move(done);
        return last;
    }
    void cancel(TransferId id) override { pending.erase(id); }
    void complete(const std::string& body, int status = 200) {
        auto done = std::move(pending.begin()->second);
        pending.erase(pending.begin());
        HttpResponse r;
        r.status = status;
        r.body = body;
        done(r);
    }
    std::map<TransferId, Completion> pending;
    TransferId last = 0;
};

class NoRoomStore : public RefreshStore, private RefreshRecords {
    void with_records(const std::function<void(RefreshRecords&)>& body) override { body(*this); }
    std::optional<StoredRefresh> find(std::string_view key) override {
        const auto it = entries.find(std::string(key));
        return it == entries.end() ? std::nullopt : std::optional<StoredRefresh>(it->second);
    }
    bool put(std::string_view key, const StoredRefresh& e) override {
        entries[std::string(key)] = e;
        return true;
    }
    void erase(std::string_view key) override { entries.erase(std::string(key)); }

public:
    std::map<std::string, StoredRefresh> entries;
};

// A fleet that answers what the test says, when the test says.
class FakeFleet : public FleetStore {
public:
    void claim(const std::string&, const ClaimRequest&, const KeyRing&, Done done) override {
        asked.push_back(std::move(done));
    }
    void publish(const std::string&, const RefreshResult& r, const KeyRing&, MilliTime) override {
        published.push_back(r);
    }
    void release(const std::string&) override { ++released; }
    void answer(FleetStore::Kind kind, RefreshResult cached = {}) {
        ASSERT_FALSE(asked.empty());
        auto done = std::move(asked.front());
        asked.erase(asked.begin());
        done({kind, std::move(cached)});
    }
    std::vector<Done> asked;
    std::vector<RefreshResult> published;
    int released = 0;
};

struct FleetCoordinatorTest : ::testing::Test {
    FakeTransport transport;
    NoRoomStore store;
    RefreshObserver observer;
    FakeFleet fleet;
    KeyRing keys = ring('k');
    MilliTime now = 1'700'000'000'000;
    RefreshCoordinator coordinator{transport, store, observer, [this] { return now; }, RefreshTiming{60, 30000, 5000},
                                   &fleet};

    std::optional<RefreshResult> ask() {
        RefreshJob job;
        job.refresh_token = "AQ-old";
        job.request.total_timeout_ms = 3000;
        job.keys = &keys;
        auto started = coordinator.refresh(job, [this](const RefreshResult& r) { result = r; });
        return started.result;
    }
    std::optional<RefreshResult> result;
};

const char* kRotated = R"({"access_token":"BQ-new","token_type":"Bearer","expires_in":3600,"refresh_token":"AQ-new"})";

}  // namespace

TEST_F(FleetCoordinatorTest, TheMachineHoldingTheClaimAsksTheFleetBeforeCalling) {
    EXPECT_FALSE(ask());
    EXPECT_TRUE(transport.pending.empty());  // not before the fleet answers
    fleet.answer(FleetStore::Kind::acquired);
    ASSERT_EQ(transport.pending.size(), 1u);
    transport.complete(kRotated);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->refresh_token, "AQ-new");
    ASSERT_EQ(fleet.published.size(), 1u);
    EXPECT_EQ(fleet.published[0].refresh_token, "AQ-new");
}

TEST_F(FleetCoordinatorTest, AnotherMachinesCallIsWaitedForThenItsResultUsed) {
    ask();
    fleet.answer(FleetStore::Kind::busy);
    EXPECT_TRUE(coordinator.needs_polling());
    coordinator.poll();  // asks again
    RefreshResult theirs;
    theirs.outcome = TokenOutcome::ok;
    theirs.access_token = "BQ-theirs";
    theirs.refresh_token = "AQ-theirs";
    fleet.answer(FleetStore::Kind::cached, theirs);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->refresh_token, "AQ-theirs");
    EXPECT_TRUE(transport.pending.empty());  // no token call on this machine
    EXPECT_FALSE(store.entries.empty());     // the machine's other workers see it
    EXPECT_FALSE(coordinator.needs_polling());
}

TEST_F(FleetCoordinatorTest, AFleetThatDoesNotAnswerLeavesTheMachineOnItsOwn) {
    ask();
    fleet.answer(FleetStore::Kind::unavailable);
    ASSERT_EQ(transport.pending.size(), 1u);
    transport.complete(kRotated);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->outcome, TokenOutcome::ok);
}

TEST_F(FleetCoordinatorTest, ARefusalWhileTheFleetCouldNotBeAskedKeepsTheSession) {
    ask();
    fleet.answer(FleetStore::Kind::unavailable);  // Redis down or refusing writes
    ASSERT_EQ(transport.pending.size(), 1u);
    // Another machine, just as unable to coordinate, rotated the token first.
    transport.complete(R"({"error":"invalid_grant","error_description":"Refresh token revoked"})", 400);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->outcome, TokenOutcome::transient);
    EXPECT_TRUE(fleet.published.empty());  // no refusal remembered for the fleet
    EXPECT_TRUE(store.entries.empty());    // nor for the machine
}

TEST_F(FleetCoordinatorTest, ARefusalWithTheFleetsClaimEndsTheSession) {
    ask();
    fleet.answer(FleetStore::Kind::acquired);
    transport.complete(R"({"error":"invalid_grant","error_description":"Refresh token revoked"})", 400);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->outcome, TokenOutcome::permanent);
}

// RedisFleetStore against a fake Redis: results that were moved, swapped
// or replayed between users or across time never open; claims are ended
// only by their owner; an error reply is never taken for an answer.
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
    claim_finds("key-b", "AQ-b", alice);  // refused, so it tries to SET NX the claim...
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
