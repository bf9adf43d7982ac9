#include "spotauth/fleet.hpp"
#include "spotauth/redis.hpp"
#include "spotauth/refresh.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace spotauth;

namespace {

KeyRing ring(char fill) { return KeyRing({make_key(std::string(32, fill))}); }

}  // namespace

TEST(RedisUrl, TcpForms) {
    auto ep = parse_redis_url("redis://127.0.0.1:6380/2");
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->host, "127.0.0.1");
    EXPECT_EQ(ep->port, 6380);
    EXPECT_EQ(ep->db, 2);
    EXPECT_TRUE(ep->password.empty());
    ep = parse_redis_url("redis://:s%40cret@redis.internal");
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->host, "redis.internal");
    EXPECT_EQ(ep->port, 6379);
    EXPECT_EQ(ep->password, "s@cret");
    ep = parse_redis_url("redis://[::1]:7000");
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->host, "::1");
    EXPECT_EQ(ep->port, 7000);
}

TEST(RedisUrl, UnixSocket) {
    const auto ep = parse_redis_url("unix:/run/redis/redis.sock?db=3");
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->unix_path, "/run/redis/redis.sock");
    EXPECT_EQ(ep->db, 3);
}

TEST(RedisUrl, MistakesAreNamed) {
    EXPECT_NE(parse_redis_url("http://x").error().find("redis:// or unix:"), std::string::npos);
    EXPECT_NE(parse_redis_url("redis://host:99999").error().find("invalid port"), std::string::npos);
    EXPECT_NE(parse_redis_url("redis://host/x").error().find("database number"), std::string::npos);
    EXPECT_NE(parse_redis_url("redis://").error().find("no host"), std::string::npos);
    EXPECT_NE(parse_redis_url("unix:relative").error().find("absolute"), std::string::npos);
}

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
    EXPECT_FALSE(keys.open(*sealed));                             // not a session cookie either
    EXPECT_FALSE(keys.open_bound(*sealed, "key-alice"));          // another kind of record
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
    RefreshCoordinator coordinator{transport, store, observer, [this] { return now; },
                                   RefreshTiming{60, 30000, 5000}, &fleet};

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
