#include "spotauth/refresh.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>

using namespace spotauth;

namespace {

// Completes transfers only when the test says so.
class FakeTransport : public HttpTransport {
public:
    TransferId start(const HttpRequest& request, Completion done) override {
        requests.push_back(request);
        pending[++last] = std::move(done);
        return last;
    }
    void cancel(TransferId id) override { pending.erase(id); }

    void complete(long status, const std::string& body) {
        ASSERT_FALSE(pending.empty());
        auto done = std::move(pending.begin()->second);
        pending.erase(pending.begin());
        HttpResponse r;
        r.status = status;
        r.body = body;
        done(r);
    }

    std::vector<HttpRequest> requests;
    std::map<TransferId, Completion> pending;
    TransferId last = 0;
};

// The records of a shared-memory store, in a std::map; `room` bounds them.
class MapStore : public RefreshStore, private RefreshRecords {
public:
    std::map<std::string, StoredRefresh> entries;
    std::size_t room = 1000;

private:
    void with_records(const std::function<void(RefreshRecords&)>& body) override { body(*this); }
    std::optional<StoredRefresh> find(std::string_view key) override {
        const auto it = entries.find(std::string(key));
        return it == entries.end() ? std::nullopt : std::optional<StoredRefresh>(it->second);
    }
    bool put(std::string_view key, const StoredRefresh& entry) override {
        if (entries.size() >= room && entries.count(std::string(key)) == 0) {
            return false;
        }
        entries[std::string(key)] = entry;
        return true;
    }
    void erase(std::string_view key) override { entries.erase(std::string(key)); }
};

struct CountingObserver : RefreshObserver {
    void call_started() override { ++calls; }
    void claim_unrecorded() override { ++unrecorded; }
    void call_finished(TokenOutcome outcome, double) override {
        last_outcome = outcome;
        ++finished;
    }
    void joined() override { ++joins; }
    void cache_hit() override { ++cache_hits; }
    void remote_wait() override { ++remote_waits; }
    int calls = 0, finished = 0, joins = 0, cache_hits = 0, remote_waits = 0, unrecorded = 0;
    TokenOutcome last_outcome = TokenOutcome::transient;
};

struct RefreshCoordinatorTest : ::testing::Test {
    FakeTransport transport;
    MapStore store;
    CountingObserver observed;
    MilliTime now = 1'700'000'000'000;
    RefreshCoordinator coordinator{transport, store, observed, [this] { return now; }, RefreshTiming{60, 30000, 5000}};

    RefreshJob job(const std::string& refresh_token = "AQ-old", const std::string& stale = "") {
        RefreshJob j;
        j.refresh_token = refresh_token;
        j.stale_access_token = stale;
        j.request.url = "http://token";
        j.request.post_body = refresh_body(refresh_token);
        j.request.total_timeout_ms = 3000;
        return j;
    }

    RefreshCoordinator::WaiterId ask(std::optional<RefreshResult>& out, const RefreshJob& j) {
        auto started = coordinator.refresh(j, [&out](const RefreshResult& r) { out = r; });
        if (started.result) {
            out = started.result;
        }
        return started.waiter;
    }
};

const char* kRotated = R"({"access_token":"BQ-new","token_type":"Bearer","expires_in":3600,"refresh_token":"AQ-new"})";
// A rotation whose access token is already inside the 60 s leeway.
const char* kRotatedShort = R"({"access_token":"BQ-1","token_type":"Bearer","expires_in":30,"refresh_token":"AQ-1"})";
const char* kRotatedAgain = R"({"access_token":"BQ-2","token_type":"Bearer","expires_in":3600,"refresh_token":"AQ-2"})";

}  // namespace

TEST(NeedsRefresh, HonoursLeeway) {
    Session s;
    s.access_expires_at = 1000;
    EXPECT_FALSE(needs_refresh(s, 939, 60));
    EXPECT_TRUE(needs_refresh(s, 940, 60));
    EXPECT_TRUE(needs_refresh(s, 2000, 0));
    EXPECT_FALSE(needs_refresh(s, 999, 0));
}

TEST(NeedsRefresh, CapsLeewayAtHalfTheTokenLifetime) {
    Session s;
    s.access_issued_at = 1000;
    s.access_expires_at = 1001;  // expires_in 1 s, leeway 60 s
    EXPECT_FALSE(needs_refresh(s, 1000, 60));
    EXPECT_TRUE(needs_refresh(s, 1001, 60));
    s.access_expires_at = 1040;  // 40 s: refreshed in its second half
    EXPECT_FALSE(needs_refresh(s, 1019, 60));
    EXPECT_TRUE(needs_refresh(s, 1020, 60));
    s.access_expires_at = 4600;  // an hour: the leeway applies as configured
    EXPECT_FALSE(needs_refresh(s, 4539, 60));
    EXPECT_TRUE(needs_refresh(s, 4540, 60));
}

TEST(NeedsRefresh, CookieWithoutIssueTimeUsesTheFullLeeway) {
    Session s;
    s.access_expires_at = 1001;
    EXPECT_TRUE(needs_refresh(s, 1000, 60));
}

TEST(RefreshResultOf, KeepsOldRefreshTokenWhenNotRotated) {
    const auto r = refresh_result(parse_token_response(200, R"({"access_token":"BQ","expires_in":60})"), "AQ-old", 100);
    EXPECT_EQ(r.outcome, TokenOutcome::ok);
    EXPECT_EQ(r.refresh_token, "AQ-old");
    EXPECT_EQ(r.access_expires_at, 160);
    EXPECT_EQ(r.access_issued_at, 100);
}

TEST(RefreshResultOf, TakesRotatedRefreshToken) {
    const auto r = refresh_result(parse_token_response(200, kRotated), "AQ-old", 0);
    EXPECT_EQ(r.refresh_token, "AQ-new");
    EXPECT_EQ(r.access_token, "BQ-new");
}

TEST(RefreshedSession, ReplacesTokensKeepsIdentity) {
    Session s;
    s.user_id = "alice";
    s.expires_at = 99;
    RefreshResult r;
    r.access_token = "BQ";
    r.refresh_token = "AQ";
    r.access_expires_at = 42;
    r.access_issued_at = 40;
    const Session out = refreshed_session(s, r);
    EXPECT_EQ(out.access_issued_at, 40);
    EXPECT_EQ(out.user_id, "alice");
    EXPECT_EQ(out.expires_at, 99);
    EXPECT_EQ(out.access_token, "BQ");
    EXPECT_EQ(out.access_expires_at, 42);
}

TEST(UnsendableRefresh, IsATransientFailure) {
    const RefreshResult r = unsendable_refresh();
    EXPECT_EQ(r.outcome, TokenOutcome::transient);
    EXPECT_EQ(r.error, "session_too_large");
    EXPECT_TRUE(r.access_token.empty() && r.refresh_token.empty());
}

TEST_F(RefreshCoordinatorTest, ConcurrentRequestsShareOneCall) {
    std::vector<std::optional<RefreshResult>> results(100);
    for (auto& r : results) {
        EXPECT_NE(ask(r, job()), 0u);
    }
    ASSERT_EQ(transport.requests.size(), 1u);
    transport.complete(200, kRotated);
    for (const auto& r : results) {
        ASSERT_TRUE(r);
        EXPECT_EQ(r->access_token, "BQ-new");
    }
    EXPECT_EQ(observed.calls, 1);
    EXPECT_EQ(observed.finished, 1);
    EXPECT_EQ(observed.last_outcome, TokenOutcome::ok);
    EXPECT_EQ(observed.joins, 99);
}

TEST_F(RefreshCoordinatorTest, StaleCookieInsideWindowGetsRememberedTokens) {
    std::optional<RefreshResult> first;
    ask(first, job());
    transport.complete(200, kRotated);
    now += 10'000;
    std::optional<RefreshResult> second;
    EXPECT_EQ(ask(second, job()), 0u);  // answered at once, from the store
    ASSERT_TRUE(second);
    EXPECT_EQ(second->refresh_token, "AQ-new");
    EXPECT_EQ(transport.requests.size(), 1u);
    EXPECT_EQ(observed.cache_hits, 1);
}

TEST_F(RefreshCoordinatorTest, AfterTheWindowTheEndpointIsAskedAgain) {
    std::optional<RefreshResult> first;
    ask(first, job());
    transport.complete(200, kRotated);
    now += 31'000;
    std::optional<RefreshResult> second;
    ask(second, job());
    EXPECT_EQ(transport.requests.size(), 2u);
}

TEST_F(RefreshCoordinatorTest, PermanentFailureIsRememberedTransientIsNot) {
    std::optional<RefreshResult> r1;
    ask(r1, job());
    transport.complete(400, R"({"error":"invalid_grant"})");
    EXPECT_EQ(r1->outcome, TokenOutcome::permanent);
    std::optional<RefreshResult> r2;
    ask(r2, job());
    EXPECT_EQ(r2->outcome, TokenOutcome::permanent);
    EXPECT_EQ(transport.requests.size(), 1u);

    std::optional<RefreshResult> t1;
    ask(t1, job("AQ-other"));
    transport.complete(503, "<html>down</html>");
    EXPECT_EQ(t1->outcome, TokenOutcome::transient);
    std::optional<RefreshResult> t2;
    ask(t2, job("AQ-other"));
    EXPECT_EQ(transport.requests.size(), 3u) << "a transient failure must be retried";
}

TEST_F(RefreshCoordinatorTest, CancelledWaiterIsNotCalledOthersAre) {
    std::optional<RefreshResult> a, b;
    const auto id_a = ask(a, job());
    ask(b, job());
    coordinator.cancel(id_a);
    transport.complete(200, kRotated);
    EXPECT_FALSE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->outcome, TokenOutcome::ok);
}

TEST_F(RefreshCoordinatorTest, CallGoesOnWhenEveryWaiterLeaves) {
    std::optional<RefreshResult> a;
    coordinator.cancel(ask(a, job()));
    ASSERT_EQ(transport.pending.size(), 1u);
    transport.complete(200, kRotated);
    EXPECT_EQ(store.entries.begin()->second.result.refresh_token, "AQ-new");
}

TEST_F(RefreshCoordinatorTest, WaiterMayCancelAnotherDuringDelivery) {
    std::optional<RefreshResult> b;
    RefreshCoordinator::WaiterId id_b = 0;
    bool a_called = false;
    coordinator.refresh(job(), [&](const RefreshResult&) {
        a_called = true;
        coordinator.cancel(id_b);
    });
    id_b = ask(b, job());
    transport.complete(200, kRotated);
    EXPECT_TRUE(a_called);
    EXPECT_FALSE(b);
}

TEST_F(RefreshCoordinatorTest, WaitsForAnotherWorkerThenUsesItsResult) {
    // Another worker holds the claim.
    store.entries[refresh_key("AQ-old")] = {true, now + 5000, 0, {}};
    std::optional<RefreshResult> r;
    ask(r, job());
    EXPECT_TRUE(coordinator.needs_polling());
    EXPECT_TRUE(transport.requests.empty());
    EXPECT_EQ(observed.remote_waits, 1);
    coordinator.poll();
    EXPECT_FALSE(r);
    RefreshResult theirs;
    theirs.outcome = TokenOutcome::ok;
    theirs.access_token = "BQ-theirs";
    theirs.access_expires_at = now / 1000 + 3600;
    store.publish(refresh_key("AQ-old"), theirs, now, 30000);
    coordinator.poll();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->access_token, "BQ-theirs");
    EXPECT_FALSE(coordinator.needs_polling());
    EXPECT_TRUE(transport.requests.empty());
}

TEST_F(RefreshCoordinatorTest, TakesOverWhenAnotherWorkersClaimLapses) {
    store.entries[refresh_key("AQ-old")] = {true, now + 1000, 0, {}};
    std::optional<RefreshResult> r;
    ask(r, job());
    now += 2000;
    coordinator.poll();
    ASSERT_EQ(transport.requests.size(), 1u);
    transport.complete(200, kRotated);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->access_token, "BQ-new");
}

TEST_F(RefreshCoordinatorTest, RemoteWaitTimesOutCleanly) {
    store.entries[refresh_key("AQ-old")] = {true, now + 60'000, 0, {}};
    std::optional<RefreshResult> r;
    ask(r, job());
    now += 5001;
    coordinator.poll();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, TokenOutcome::transient);
    EXPECT_EQ(r->error, "wait_timeout");
    EXPECT_FALSE(coordinator.needs_polling());
}

TEST_F(RefreshCoordinatorTest, RefusedAccessTokenForcesANewCall) {
    std::optional<RefreshResult> first;
    ask(first, job());
    transport.complete(200, kRotated);
    std::optional<RefreshResult> retry;
    ask(retry, job("AQ-old", "BQ-new"));  // the upstream said BQ-new is invalid
    ASSERT_EQ(transport.requests.size(), 2u);
    // AQ-old was rotated away by the first call: the second sends AQ-new.
    EXPECT_EQ(transport.requests[1].post_body, refresh_body("AQ-new"));
}

// A tab still holding the pre-rotation cookie comes back when the rotated
// access token is due as well: the refresh continues from the newest
// refresh token instead of sending the revoked one.
TEST_F(RefreshCoordinatorTest, StaleCookieWhoseRememberedTokenIsDueContinuesTheChain) {
    std::optional<RefreshResult> first;
    ask(first, job("AQ-old"));
    transport.complete(200, kRotatedShort);
    now += 5'000;
    std::optional<RefreshResult> old_tab;
    EXPECT_NE(ask(old_tab, job("AQ-old")), 0u);
    ASSERT_EQ(transport.requests.size(), 2u);
    EXPECT_EQ(transport.requests[1].post_body, refresh_body("AQ-1"));
    transport.complete(200, kRotatedAgain);
    ASSERT_TRUE(old_tab);
    EXPECT_EQ(old_tab->outcome, TokenOutcome::ok);
    EXPECT_EQ(old_tab->refresh_token, "AQ-2");
    // Later requests with either token find the newest result, without a call.
    for (const char* token : {"AQ-old", "AQ-1"}) {
        std::optional<RefreshResult> later;
        EXPECT_EQ(ask(later, job(token, "BQ-1")), 0u) << token;
        ASSERT_TRUE(later) << token;
        EXPECT_EQ(later->refresh_token, "AQ-2") << token;
    }
    EXPECT_EQ(transport.requests.size(), 2u);
    EXPECT_EQ(store.entries[refresh_key("AQ-old")].result.refresh_token, "AQ-1");
    EXPECT_EQ(store.entries[refresh_key("AQ-1")].result.refresh_token, "AQ-2");
}

TEST(RefreshWithoutToken, EndsTheSessionLikeInvalidGrant) {
    const RefreshResult r = refresh_without_token();
    EXPECT_EQ(r.outcome, TokenOutcome::permanent);
    EXPECT_EQ(r.error, "no_refresh_token");
    EXPECT_TRUE(r.access_token.empty());
}

TEST(ContinuedJob, KeepsTheClientCredentialsOfTheBody) {
    // spotauth_client_auth post: a chained call must authenticate too.
    RefreshJob job;
    job.refresh_token = "AQ-old";
    job.body_credentials = "client_id=c&client_secret=s";
    job.request.post_body = refresh_body(job.refresh_token, job.body_credentials);
    RefreshResult rotated;
    rotated.refresh_token = "AQ-1";
    EXPECT_EQ(continued_job(job, rotated).request.post_body,
              "grant_type=refresh_token&refresh_token=AQ-1&client_id=c&client_secret=s");
}

TEST(RefreshResultOf, KeepsOldRefreshTokenWithAStringExpiresIn) {
    // Naver's and Kakao's refreshes: no new refresh token, Naver's lifetime a string.
    const auto r = refresh_result(
        parse_token_response(200, R"({"access_token":"BQ","token_type":"bearer","expires_in":"3600"})"), "AQ-old", 100);
    EXPECT_EQ(r.outcome, TokenOutcome::ok);
    EXPECT_EQ(r.refresh_token, "AQ-old");
    EXPECT_EQ(r.access_expires_at, 3700);
}

TEST_F(RefreshCoordinatorTest, OldAndNewCookiesShareTheChainedCall) {
    std::optional<RefreshResult> first;
    ask(first, job("AQ-old"));
    transport.complete(200, kRotatedShort);
    std::optional<RefreshResult> old_tab, new_tab;
    ask(old_tab, job("AQ-old"));
    ask(new_tab, job("AQ-1"));
    EXPECT_EQ(observed.joins, 1);
    ASSERT_EQ(transport.requests.size(), 2u);
    transport.complete(200, kRotatedAgain);
    ASSERT_TRUE(old_tab && new_tab);
    EXPECT_EQ(old_tab->refresh_token, "AQ-2");
    EXPECT_EQ(new_tab->refresh_token, "AQ-2");
}

TEST_F(RefreshCoordinatorTest, ChainedCallOfAnotherWorkerIsWaitedOn) {
    RefreshResult rotated = refresh_result(parse_token_response(200, kRotatedShort), "AQ-old", now / 1000);
    store.publish(refresh_key("AQ-old"), rotated, now, 30'000);
    store.entries[refresh_key("AQ-1")] = {true, now + 5000, 0, {}};  // another worker sends AQ-1
    std::optional<RefreshResult> r;
    ask(r, job("AQ-old"));
    EXPECT_EQ(observed.remote_waits, 1);
    EXPECT_TRUE(transport.requests.empty());
    store.publish(refresh_key("AQ-1"), refresh_result(parse_token_response(200, kRotatedAgain), "AQ-1", now / 1000),
                  now, 30'000);
    coordinator.poll();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->refresh_token, "AQ-2");
    EXPECT_TRUE(transport.requests.empty());
}

// Waiting on another worker's call whose result is already due for the
// waiters (a provider issuing tokens shorter than the leeway): they follow
// the rotation instead of calling with the token it revoked.
TEST_F(RefreshCoordinatorTest, WaitersOfAnotherWorkerFollowItsRotation) {
    store.entries[refresh_key("AQ-old")] = {true, now + 5000, 0, {}};
    std::optional<RefreshResult> r;
    ask(r, job("AQ-old"));
    store.publish(refresh_key("AQ-old"), refresh_result(parse_token_response(200, kRotatedShort), "AQ-old", now / 1000),
                  now, 30'000);
    coordinator.poll();  // moves to the flight of AQ-1
    coordinator.poll();  // claims it
    ASSERT_EQ(transport.requests.size(), 1u);
    EXPECT_EQ(transport.requests[0].post_body, refresh_body("AQ-1"));
    transport.complete(200, kRotatedAgain);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->refresh_token, "AQ-2");
    EXPECT_FALSE(coordinator.needs_polling());
}

TEST_F(RefreshCoordinatorTest, ACancelledWaiterStaysCancelledAfterFollowingAChain) {
    store.entries[refresh_key("AQ-old")] = {true, now + 5000, 0, {}};
    std::optional<RefreshResult> a, b;
    const auto id_a = ask(a, job("AQ-old"));
    ask(b, job("AQ-old"));
    store.publish(refresh_key("AQ-old"), refresh_result(parse_token_response(200, kRotatedShort), "AQ-old", now / 1000),
                  now, 30'000);
    coordinator.poll();
    coordinator.cancel(id_a);
    coordinator.poll();
    transport.complete(200, kRotatedAgain);
    EXPECT_FALSE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->refresh_token, "AQ-2");
}

// A provider handing back an earlier refresh token makes a cycle; requests
// following it wait out their limit instead of looping.
TEST_F(RefreshCoordinatorTest, ACycleOfRotationsEndsInATimeout) {
    RefreshResult to_b = refresh_result(parse_token_response(200, kRotatedShort), "AQ-old", now / 1000);
    RefreshResult to_a = to_b;
    to_a.refresh_token = "AQ-old";
    store.publish(refresh_key("AQ-old"), to_b, now, 30'000);
    store.publish(refresh_key("AQ-1"), to_a, now, 30'000);
    std::optional<RefreshResult> r;
    EXPECT_NE(ask(r, job("AQ-old")), 0u);
    EXPECT_TRUE(coordinator.needs_polling());
    now += 5001;
    coordinator.poll();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, "wait_timeout");
    EXPECT_TRUE(transport.requests.empty());
    EXPECT_FALSE(coordinator.needs_polling());
}

// Two calls with the same refresh token (another worker's lapsed claim): the
// provider rotates on the first, refuses the second; the second's waiters
// get the first's tokens, and the store keeps them.
TEST_F(RefreshCoordinatorTest, LateInvalidGrantYieldsToTheRotatedResult) {
    store.entries[refresh_key("AQ-old")] = {true, now + 1000, 0, {}};
    std::optional<RefreshResult> mine;
    ask(mine, job());
    now += 2000;
    coordinator.poll();  // the claim lapsed: this worker calls too
    ASSERT_EQ(transport.requests.size(), 1u);
    RefreshResult theirs;
    theirs.outcome = TokenOutcome::ok;
    theirs.access_token = "BQ-theirs";
    theirs.refresh_token = "AQ-theirs";
    theirs.access_expires_at = now / 1000 + 3600;
    store.publish(refresh_key("AQ-old"), theirs, now, 30'000);  // the slow worker answered first
    transport.complete(400, R"({"error":"invalid_grant","error_description":"Refresh token revoked"})");
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->outcome, TokenOutcome::ok);
    EXPECT_EQ(mine->refresh_token, "AQ-theirs");
    EXPECT_EQ(store.entries[refresh_key("AQ-old")].result.access_token, "BQ-theirs");
}

// The protocol, written once in RefreshStore, over records of any store.
TEST(RefreshStoreProtocol, ClaimThenBusyThenCachedThenAcquiredAfterTheWindow) {
    MapStore store;
    ClaimRequest request;
    request.now = 1000;
    request.claim_deadline = 5000;
    request.cache_window = 30'000;
    EXPECT_EQ(store.claim("k", request).kind, ClaimKind::acquired);
    EXPECT_TRUE(store.entries["k"].in_flight);
    EXPECT_EQ(store.claim("k", request).kind, ClaimKind::busy);
    RefreshResult ok;
    ok.outcome = TokenOutcome::ok;
    ok.access_token = "BQ";
    ok.access_expires_at = 10'000;
    EXPECT_EQ(store.publish("k", ok, 2000, 30'000).access_token, "BQ");
    const auto cached = store.claim("k", request);
    EXPECT_EQ(cached.kind, ClaimKind::cached);
    EXPECT_EQ(cached.cached.access_token, "BQ");
    // Due again, and rotated: the claimer continues from it; the result stays.
    request.fresh_until = 10'000;
    request.refresh_token = "AQ-sent";
    ok.refresh_token = "AQ-rotated";
    store.publish("k", ok, 2000, 30'000);
    const auto chained = store.claim("k", request);
    EXPECT_EQ(chained.kind, ClaimKind::chained);
    EXPECT_EQ(chained.cached.refresh_token, "AQ-rotated");
    EXPECT_FALSE(store.entries["k"].in_flight);
    request.now = 2000 + 30'000;
    EXPECT_EQ(store.claim("k", request).kind, ClaimKind::acquired);
    store.release("k");
    EXPECT_TRUE(store.entries.empty());
}

TEST_F(RefreshCoordinatorTest, AClaimAFullStoreCannotRecordIsCoordinatedLocallyAndCounted) {
    store.room = 0;
    std::optional<RefreshResult> first, second;
    ask(first, job());
    ask(second, job());
    EXPECT_EQ(observed.unrecorded, 1);
    EXPECT_EQ(transport.requests.size(), 1u);  // the second joined the worker's flight
    transport.complete(200, kRotated);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(second->access_token, "BQ-new");
}
