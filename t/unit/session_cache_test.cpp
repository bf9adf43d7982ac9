#include "spotauth/session_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace spotauth;

namespace {

const KeyRing& ring() {
    static const KeyRing r({make_key(std::string(32, 's'))});
    return r;
}

Session sample() {
    Session s;
    s.user_id = "alice";
    s.access_token = "BQ-access";
    s.refresh_token = "AQ-refresh";
    s.access_expires_at = 1'700'003'600;
    s.issued_at = 1'700'000'000;
    s.expires_at = 1'702'592'000;
    return s;
}

}  // namespace

TEST(SessionCache, AnswersLikeOpenSession) {
    SessionCache cache(4);
    const auto cookie = *seal_session(ring(), sample());
    for (int i = 0; i < 2; ++i) {  // miss, then hit
        const SharedSession opened = cache.open(ring(), cookie, 1'700'000'100);
        ASSERT_EQ(opened.status, CookieStatus::valid);
        ASSERT_TRUE(opened.session);
        EXPECT_EQ(opened.session->access_token, "BQ-access");
        EXPECT_FALSE(opened.old_key);
        EXPECT_EQ(cache.size(), 1u);
    }
    const SharedSession expired = cache.open(ring(), cookie, 1'702'592'000);
    EXPECT_EQ(expired.status, CookieStatus::expired);
    EXPECT_FALSE(expired.session);
    EXPECT_EQ(cache.size(), 1u);  // still remembered: expiry is checked on every lookup
}

TEST(SessionCache, HitsShareOneSession) {
    SessionCache cache(4);
    const auto cookie = *seal_session(ring(), sample());
    const SharedSession first = cache.open(ring(), cookie, 1'700'000'100);
    const SharedSession second = cache.open(ring(), cookie, 1'700'000'100);
    ASSERT_TRUE(first.session);
    EXPECT_EQ(first.session, second.session);  // the same object: nothing copied
    EXPECT_EQ(first.session.use_count(), 3);   // the cache and the two holders
}

TEST(SessionCache, HeldSessionOutlivesEviction) {
    SessionCache cache(1);
    const auto cookie = *seal_session(ring(), sample());
    Session other = sample();
    other.user_id = "bob";
    const auto other_cookie = *seal_session(ring(), other);
    const SharedSession held = cache.open(ring(), cookie, 1'700'000'100);
    ASSERT_TRUE(held.session);
    EXPECT_EQ(cache.open(ring(), other_cookie, 1'700'000'100).session->user_id, "bob");  // evicts alice
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(held.session.use_count(), 1);  // only the request holds it now
    EXPECT_EQ(held.session->user_id, "alice");
    EXPECT_EQ(held.session->access_token, "BQ-access");
    // Opened again: a new entry, the same claims.
    const SharedSession again = cache.open(ring(), cookie, 1'700'000'100);
    EXPECT_NE(again.session, held.session);
    EXPECT_EQ(again.session->refresh_token, held.session->refresh_token);
}

// The cache hashes a cookie's tail (the GCM tag) only; a cookie that ends
// like a remembered one is still compared byte for byte, so a forged head
// with a stolen tail is opened (and refused), not served from the cache.
TEST(SessionCache, SameTailDifferentCookieIsNoHit) {
    SessionCache cache(4);
    const auto cookie = *seal_session(ring(), sample());
    ASSERT_EQ(cache.open(ring(), cookie, 1'700'000'100).status, CookieStatus::valid);
    std::string forged = cookie;
    forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_EQ(cache.open(ring(), forged, 1'700'000'100).status, CookieStatus::invalid);
    EXPECT_EQ(cache.open(ring(), "x." + cookie.substr(2), 1'700'000'100).status, CookieStatus::invalid);
    EXPECT_EQ(cache.open(ring(), cookie, 1'700'000'100).status, CookieStatus::valid);
    EXPECT_EQ(cache.size(), 1u);
}

TEST(SessionCache, RemembersTheKeyThatSealedIt) {
    const Key old_key = make_key(std::string(32, 'o'));
    const KeyRing rotated({make_key(std::string(32, 'n')), old_key});
    const auto old_cookie = *seal_session(KeyRing({old_key}), sample());
    SessionCache cache(4);
    for (int i = 0; i < 2; ++i) {  // miss, then hit
        const SharedSession opened = cache.open(rotated, old_cookie, 1'700'000'100);
        ASSERT_EQ(opened.status, CookieStatus::valid);
        EXPECT_TRUE(opened.old_key);
    }
}

TEST(SessionCache, WithoutCapacityOpensEveryTime) {
    SessionCache cache(0);
    const auto cookie = *seal_session(ring(), sample());
    const SharedSession opened = cache.open(ring(), cookie, 1'700'000'100);
    ASSERT_EQ(opened.status, CookieStatus::valid);
    EXPECT_EQ(opened.session->user_id, "alice");
    EXPECT_EQ(opened.session.use_count(), 1);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(SessionCache, NeverRemembersBadCookies) {
    SessionCache cache(4);
    EXPECT_EQ(cache.open(ring(), "garbage", 0).status, CookieStatus::invalid);
    EXPECT_EQ(cache.open(ring(), "", 0).status, CookieStatus::absent);
    std::string tampered = *seal_session(ring(), sample());
    tampered[tampered.size() - 2] ^= 1;
    EXPECT_EQ(cache.open(ring(), tampered, 1'700'000'100).status, CookieStatus::invalid);
    // Authentic but expired: not remembered either.
    EXPECT_EQ(cache.open(ring(), *seal_session(ring(), sample()), 1'702'592'000).status, CookieStatus::expired);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(SessionCache, EvictsLeastRecentlyUsed) {
    SessionCache cache(2);
    std::vector<std::string> cookies;
    for (int i = 0; i < 3; ++i) {
        Session s = sample();
        s.user_id = "user" + std::to_string(i);
        cookies.push_back(*seal_session(ring(), s));
    }
    cache.open(ring(), cookies[0], 1'700'000'100);
    const auto first_1 = cache.open(ring(), cookies[1], 1'700'000'100).session;
    const auto first_0 = cache.open(ring(), cookies[0], 1'700'000'100).session;  // 0 is now the most recent
    cache.open(ring(), cookies[2], 1'700'000'100);  // evicts 1
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.open(ring(), cookies[0], 1'700'000'100).session, first_0);  // still cached
    EXPECT_EQ(cache.open(ring(), cookies[2], 1'700'000'100).session->user_id, "user2");
    EXPECT_NE(cache.open(ring(), cookies[1], 1'700'000'100).session, first_1);  // opened anew
}

// Random opens over more cookies than the cache holds, checked against a
// plain least-recently-used list: a hit hands out the very session object
// the cookie was last opened to, a miss a new one.
TEST(SessionCache, BehavesLikeAnLruListUnderChurn) {
    constexpr std::size_t kCapacity = 8;
    std::vector<std::string> cookies;
    for (int i = 0; i < 40; ++i) {
        Session s = sample();
        s.user_id = "user" + std::to_string(i);
        cookies.push_back(*seal_session(ring(), s));
    }
    SessionCache cache(kCapacity);
    std::list<std::size_t> model;  // front: most recently used
    std::map<std::size_t, std::shared_ptr<const Session>> last;
    std::mt19937 random(20261202);
    std::size_t hits = 0;
    for (int step = 0; step < 5000; ++step) {
        // Skewed towards a few cookies, so both hits and misses are common.
        const std::size_t i = random() % 4 == 0 ? random() % cookies.size() : random() % 10;
        const SharedSession opened = cache.open(ring(), cookies[i], 1'700'000'100);
        ASSERT_EQ(opened.status, CookieStatus::valid);
        ASSERT_EQ(opened.session->user_id, "user" + std::to_string(i));
        const auto remembered = std::find(model.begin(), model.end(), i);
        if (remembered != model.end()) {
            ++hits;
            ASSERT_EQ(opened.session, last[i]) << "step " << step;
            model.erase(remembered);
        } else {
            ASSERT_NE(opened.session, last[i]) << "step " << step;
            if (model.size() == kCapacity) {
                model.pop_back();
            }
        }
        model.push_front(i);
        last[i] = opened.session;
        ASSERT_EQ(cache.size(), model.size());
    }
    EXPECT_GT(hits, 1000u);
    EXPECT_LT(hits, 4500u);
}
