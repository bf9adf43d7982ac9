#include "spotauth/session_cache.hpp"

#include "session_fixtures.hpp"

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

using test::kNow;
using test::sample_session;

const KeyRing& ring() { return test::test_ring(); }

std::string cookie_of(const std::string& user) {
    Session s = sample_session();
    s.user_id = user;
    return *seal_session(ring(), s);
}

// Opens `cookie` until the cache remembers it (the second opening), and
// returns the session it keeps.
std::shared_ptr<const Session> remembered(SessionCache& cache, const std::string& cookie) {
    cache.open(ring(), cookie, kNow);
    return cache.open(ring(), cookie, kNow).session;
}

}  // namespace

TEST(SessionCache, AnswersLikeOpenSession) {
    SessionCache cache(4);
    const auto cookie = *seal_session(ring(), sample_session());
    for (int i = 0; i < 3; ++i) {  // opened, opened and remembered, hit
        const SharedSession opened = cache.open(ring(), cookie, kNow);
        ASSERT_EQ(opened.status, CookieStatus::valid);
        ASSERT_TRUE(opened.session);
        EXPECT_EQ(opened.session->access_token, "BQ-access");
        EXPECT_FALSE(opened.old_key);
        EXPECT_EQ(cache.size(), i == 0 ? 0u : 1u);
    }
    const SharedSession expired = cache.open(ring(), cookie, 1'702'592'000);
    EXPECT_EQ(expired.status, CookieStatus::expired);
    EXPECT_FALSE(expired.session);
    EXPECT_EQ(cache.size(), 1u);  // still remembered: expiry is checked on every lookup
}

TEST(SessionCache, RemembersACookieOnItsSecondOpening) {
    SessionCache cache(4);
    const auto cookie = cookie_of("alice");
    const SharedSession first = cache.open(ring(), cookie, kNow);
    EXPECT_EQ(first.session.use_count(), 1);  // not remembered
    const SharedSession second = cache.open(ring(), cookie, kNow);
    EXPECT_NE(second.session, first.session);  // opened again
    const SharedSession third = cache.open(ring(), cookie, kNow);
    EXPECT_EQ(third.session, second.session);  // the same object: nothing copied
    EXPECT_EQ(third.session.use_count(), 3);   // the cache and the two holders
}

// A burst of cookies opened once each (one-off clients, or somebody cycling
// through many of their own sessions) leaves the sessions in use cached.
TEST(SessionCache, CookiesSeenOnceDoNotEvictTheOnesInUse) {
    SessionCache cache(4);
    std::vector<std::shared_ptr<const Session>> in_use;
    for (int i = 0; i < 4; ++i) {
        in_use.push_back(remembered(cache, cookie_of("user" + std::to_string(i))));
    }
    for (int i = 0; i < 200; ++i) {
        ASSERT_EQ(cache.open(ring(), cookie_of("once" + std::to_string(i)), kNow).status, CookieStatus::valid);
    }
    EXPECT_EQ(cache.size(), 4u);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(in_use[static_cast<std::size_t>(i)].use_count(), 2) << i;  // the cache still holds each
    }
}

TEST(SessionCache, HeldSessionOutlivesEviction) {
    SessionCache cache(1);
    const auto cookie = cookie_of("alice");
    const auto other_cookie = cookie_of("bob");
    const std::shared_ptr<const Session> held = remembered(cache, cookie);
    ASSERT_TRUE(held);
    EXPECT_EQ(remembered(cache, other_cookie)->user_id, "bob");  // evicts alice
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(held.use_count(), 1);  // only the request holds it now
    EXPECT_EQ(held->user_id, "alice");
    EXPECT_EQ(held->access_token, "BQ-access");
    // Opened again: a new object, the same claims.
    const SharedSession again = cache.open(ring(), cookie, kNow);
    EXPECT_NE(again.session, held);
    EXPECT_EQ(again.session->refresh_token, held->refresh_token);
}

// The cache hashes a cookie's tail (the GCM tag) only; a cookie that ends
// like a remembered one is still compared byte for byte, so a forged head
// with a stolen tail is opened (and refused), not served from the cache.
TEST(SessionCache, SameTailDifferentCookieIsNoHit) {
    SessionCache cache(4);
    const auto cookie = *seal_session(ring(), sample_session());
    ASSERT_TRUE(remembered(cache, cookie));
    std::string forged = cookie;
    forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_EQ(cache.open(ring(), forged, kNow).status, CookieStatus::invalid);
    EXPECT_EQ(cache.open(ring(), "x." + cookie.substr(2), kNow).status, CookieStatus::invalid);
    EXPECT_EQ(cache.open(ring(), cookie, kNow).status, CookieStatus::valid);
    EXPECT_EQ(cache.size(), 1u);
}

TEST(SessionCache, RemembersTheKeyThatSealedIt) {
    const Key old_key = make_key(std::string(32, 'o'));
    const KeyRing rotated({make_key(std::string(32, 'n')), old_key});
    const auto old_cookie = *seal_session(KeyRing({old_key}), sample_session());
    SessionCache cache(4);
    for (int i = 0; i < 3; ++i) {  // opened, remembered, hit
        const SharedSession opened = cache.open(rotated, old_cookie, kNow);
        ASSERT_EQ(opened.status, CookieStatus::valid);
        EXPECT_TRUE(opened.old_key);
    }
    EXPECT_EQ(cache.size(), 1u);
}

TEST(SessionCache, WithoutCapacityOpensEveryTime) {
    SessionCache cache(0);
    const auto cookie = *seal_session(ring(), sample_session());
    for (int i = 0; i < 2; ++i) {
        const SharedSession opened = cache.open(ring(), cookie, kNow);
        ASSERT_EQ(opened.status, CookieStatus::valid);
        EXPECT_EQ(opened.session->user_id, "alice");
        EXPECT_EQ(opened.session.use_count(), 1);
    }
    EXPECT_EQ(cache.size(), 0u);
}

TEST(SessionCache, NeverRemembersBadCookies) {
    SessionCache cache(4);
    for (int i = 0; i < 2; ++i) {  // twice each: a second opening would remember a good one
        EXPECT_EQ(cache.open(ring(), "garbage", 0).status, CookieStatus::invalid);
        EXPECT_EQ(cache.open(ring(), "", 0).status, CookieStatus::absent);
        std::string tampered = *seal_session(ring(), sample_session());
        tampered[tampered.size() - 2] ^= 1;
        EXPECT_EQ(cache.open(ring(), tampered, kNow).status, CookieStatus::invalid);
    }
    // Authentic but expired: not remembered either.
    const auto cookie = *seal_session(ring(), sample_session());
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(cache.open(ring(), cookie, 1'702'592'000).status, CookieStatus::expired);
    }
    EXPECT_EQ(cache.size(), 0u);
}

TEST(SessionCache, EvictsLeastRecentlyUsed) {
    SessionCache cache(2);
    const std::vector<std::string> cookies{cookie_of("user0"), cookie_of("user1"), cookie_of("user2")};
    remembered(cache, cookies[0]);
    const auto first_1 = remembered(cache, cookies[1]);
    const auto first_0 = cache.open(ring(), cookies[0], kNow).session;  // 0 is now the most recent
    remembered(cache, cookies[2]);                                      // evicts 1
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.open(ring(), cookies[0], kNow).session, first_0);  // still cached
    EXPECT_EQ(cache.open(ring(), cookies[2], kNow).session->user_id, "user2");
    EXPECT_NE(cache.open(ring(), cookies[1], kNow).session, first_1);  // opened anew
}

// Random openings over more cookies than the cache holds, each cookie
// opened twice in a row (so it is remembered), checked against a plain
// least-recently-used list: a hit hands out the very session object the
// cookie was last remembered with, a miss a new one. At the end the
// `capacity` most recent cookies must all still be found.
TEST(SessionCache, BehavesLikeAnLruListUnderChurn) {
    constexpr std::size_t kCapacity = 8;
    std::vector<std::string> cookies;
    for (int i = 0; i < 40; ++i) {
        cookies.push_back(cookie_of("user" + std::to_string(i)));
    }
    SessionCache cache(kCapacity);
    std::list<std::size_t> model;  // front: most recently used
    std::map<std::size_t, std::shared_ptr<const Session>> kept;
    std::mt19937 random(20261202);
    std::size_t hits = 0;
    const auto open_twice = [&](std::size_t i) {
        const auto remembered_entry = std::find(model.begin(), model.end(), i);
        const SharedSession first = cache.open(ring(), cookies[i], kNow);
        const SharedSession second = cache.open(ring(), cookies[i], kNow);
        ASSERT_EQ(first.session->user_id, "user" + std::to_string(i));
        if (remembered_entry != model.end()) {
            ++hits;
            ASSERT_EQ(first.session, kept[i]);
            model.erase(remembered_entry);
        } else {
            ASSERT_NE(first.session, kept[i]);
            ASSERT_NE(second.session, first.session);  // the second opening is the one remembered
            if (model.size() == kCapacity) {
                model.pop_back();
            }
        }
        ASSERT_EQ(cache.open(ring(), cookies[i], kNow).session, second.session);  // and found
        model.push_front(i);
        kept[i] = second.session;
        ASSERT_EQ(cache.size(), model.size());
    };
    for (int step = 0; step < 3000; ++step) {
        // Skewed towards a few cookies, so both hits and misses are common.
        open_twice(random() % 4 == 0 ? random() % cookies.size() : random() % 10);
        ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "step " << step;
    }
    EXPECT_GT(hits, 600u);
    EXPECT_LT(hits, 2700u);
    for (const std::size_t i : model) {
        EXPECT_EQ(cache.open(ring(), cookies[i], kNow).session, kept[i]) << i;
    }
}
