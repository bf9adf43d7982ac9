// Refresh records sealed to their key: a record moved, swapped, copied or
// replayed from earlier in the store's memory does not open.
#include "spotauth/sealed_refresh.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace spotauth;

namespace {

// A store's memory as bytes that a test (the attacker) may rewrite.
class MapRecords : public SealedRecords {
public:
    std::optional<SealedRecord> find(std::string_view key) override {
        const auto it = bytes.find(std::string(key));
        return it == bytes.end() ? std::nullopt : std::optional<SealedRecord>(it->second);
    }
    bool put(std::string_view key, const SealedRecord& record) override {
        bytes[std::string(key)] = record;
        return true;
    }
    void erase(std::string_view key) override { bytes.erase(std::string(key)); }

    std::map<std::string, SealedRecord> bytes;
};

class SealedStore : public RefreshStore {
public:
    explicit SealedStore(std::string s) : secret(std::move(s)) {}
    MapRecords records;
    std::string secret;

private:
    void with_records(const std::function<void(RefreshRecords&)>& body) override {
        SealingRecords sealing(records, secret);
        body(sealing);
    }
};

RefreshResult ok_result(const std::string& who) {
    RefreshResult r;
    r.outcome = TokenOutcome::ok;
    r.access_token = "access-of-" + who;
    r.refresh_token = "refresh-of-" + who;
    r.access_expires_at = 1'700'003'600;
    r.access_issued_at = 1'700'000'000;
    return r;
}

RefreshResult refused() {
    RefreshResult r;
    r.outcome = TokenOutcome::permanent;
    r.error = "invalid_grant";
    return r;
}

struct SealedRefreshTest : ::testing::Test {
    SealedStore store{*new_record_secret()};
    MilliTime now = 1'700'000'000'000;
    const MilliTime window = 30'000;
    const std::string key_a = refresh_key("token-of-alice");
    const std::string key_b = refresh_key("token-of-bob");

    RefreshStore::Claim claim(const std::string& key, const std::string& token) {
        ClaimRequest c;
        c.now = now;
        c.claim_deadline = now + 5000;
        c.cache_window = window;
        c.fresh_until = now / 1000 + 60;
        c.refresh_token = token;
        return store.claim(key, c);
    }
};

TEST_F(SealedRefreshTest, AResultOpensUnderItsOwnKey) {
    ASSERT_EQ(claim(key_a, "token-of-alice").kind, ClaimKind::acquired);
    store.publish(key_a, ok_result("alice"), now, window);
    const auto c = claim(key_a, "token-of-alice");
    ASSERT_EQ(c.kind, ClaimKind::cached);
    EXPECT_EQ(c.cached.access_token, "access-of-alice");
    EXPECT_EQ(c.cached.refresh_token, "refresh-of-alice");
    EXPECT_EQ(c.cached.access_expires_at, 1'700'003'600);
    EXPECT_EQ(c.cached.access_issued_at, 1'700'000'000);
}

TEST_F(SealedRefreshTest, TheStoredBytesHoldNoTokenInTheClear) {
    store.publish(key_a, ok_result("alice"), now, window);
    EXPECT_EQ(store.records.bytes.at(key_a).sealed.find("access-of-alice"), std::string::npos);
}

TEST_F(SealedRefreshTest, AResultCopiedToAnotherKeyDoesNotOpen) {
    store.publish(key_a, ok_result("alice"), now, window);
    store.records.bytes[key_b] = store.records.bytes.at(key_a);
    const auto c = claim(key_b, "token-of-bob");
    EXPECT_EQ(c.kind, ClaimKind::acquired);  // bob's own refresh, not alice's tokens
    EXPECT_EQ(claim(key_a, "token-of-alice").kind, ClaimKind::cached);
}

TEST_F(SealedRefreshTest, SwappedResultsOpenForNeither) {
    store.publish(key_a, ok_result("alice"), now, window);
    store.publish(key_b, ok_result("bob"), now, window);
    std::swap(store.records.bytes.at(key_a), store.records.bytes.at(key_b));
    EXPECT_EQ(claim(key_a, "token-of-alice").kind, ClaimKind::acquired);
    EXPECT_EQ(claim(key_b, "token-of-bob").kind, ClaimKind::acquired);
}

TEST_F(SealedRefreshTest, ACopiedRefusalLogsNobodyOut) {
    store.publish(key_a, refused(), now, window);
    store.records.bytes[key_b] = store.records.bytes.at(key_a);
    EXPECT_EQ(claim(key_b, "token-of-bob").kind, ClaimKind::acquired);
}

TEST_F(SealedRefreshTest, AResultReplayedFromEarlierIsAsOldAsItIs) {
    store.publish(key_a, refused(), now, window);
    SealedRecord captured = store.records.bytes.at(key_a);
    now += 10 * window;
    store.publish(key_a, ok_result("alice"), now, window);
    now += 10 * window;
    captured.stored_at = now;  // the housekeeping hint lies; the seal does not
    store.records.bytes[key_a] = captured;
    EXPECT_EQ(claim(key_a, "token-of-alice").kind, ClaimKind::acquired);
}

TEST_F(SealedRefreshTest, ARecordOfAnotherSecretDoesNotOpen) {
    store.publish(key_a, ok_result("alice"), now, window);
    SealedStore other(*new_record_secret());
    other.records.bytes[key_a] = store.records.bytes.at(key_a);
    EXPECT_FALSE(open_record(other.secret, key_a, other.records.bytes.at(key_a).sealed));
}

TEST_F(SealedRefreshTest, AnAlteredRecordDoesNotOpen) {
    store.publish(key_a, ok_result("alice"), now, window);
    const std::string sealed = store.records.bytes.at(key_a).sealed;
    ASSERT_TRUE(open_record(store.secret, key_a, sealed));
    for (std::size_t i = 0; i < sealed.size(); i += 7) {
        std::string altered = sealed;
        altered[i] = static_cast<char>(altered[i] ^ 1);
        EXPECT_FALSE(open_record(store.secret, key_a, altered)) << "byte " << i;
    }
    EXPECT_FALSE(open_record(store.secret, key_a, sealed.substr(0, sealed.size() - 1)));
    EXPECT_FALSE(open_record(store.secret, key_a, ""));
}

TEST_F(SealedRefreshTest, ARecordThatDoesNotOpenIsDropped) {
    store.publish(key_a, ok_result("alice"), now, window);
    store.records.bytes[key_b] = store.records.bytes.at(key_a);
    claim(key_b, "token-of-bob");
    EXPECT_TRUE(store.records.bytes.at(key_b).in_flight);  // bob's own claim replaced it
}

TEST_F(SealedRefreshTest, AClaimIsNotSealedAndMakesOthersWaitUntilItsDeadline) {
    ASSERT_EQ(claim(key_a, "token-of-alice").kind, ClaimKind::acquired);
    EXPECT_TRUE(store.records.bytes.at(key_a).sealed.empty());
    EXPECT_EQ(claim(key_a, "token-of-alice").kind, ClaimKind::busy);
}

TEST(SealRecord, OnlySettledResultsAreSealed) {
    const std::string secret = *new_record_secret();
    StoredRefresh claim;
    claim.in_flight = true;
    EXPECT_FALSE(seal_record(secret, "k", claim));
    StoredRefresh transient;
    transient.result.outcome = TokenOutcome::transient;
    EXPECT_FALSE(seal_record(secret, "k", transient));
}

}  // namespace
