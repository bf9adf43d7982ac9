#include "spotauth/session_cookie.hpp"

#include "spotauth/provider_text.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

const KeyRing& ring() {
    static const KeyRing r({make_key(std::string(32, 'c'))});
    return r;
}

Session with_sizes(std::size_t token_bytes, std::string name) {
    Session s;
    s.user_id = "alice";
    s.display_name = std::move(name);
    s.access_token = std::string(token_bytes, 'A');
    s.refresh_token = std::string(token_bytes, 'R');
    s.access_expires_at = 1'700'003'600;
    s.access_issued_at = 1'700'000'000;
    s.issued_at = 1'700'000'000;
    s.expires_at = 1'702'592'000;
    return s;
}

SessionCookie make(const Session& s) { return session_set_cookie(ring(), s, "__Host-spotauth", {true, 30 * 86400}); }

std::string opened_name(const SessionCookie& c) {
    const std::string value =
        c.set_cookie.substr(c.set_cookie.find('=') + 1, c.set_cookie.find(';') - c.set_cookie.find('=') - 1);
    return open_session(ring(), value, 1'700'000'100).session.display_name;
}

}  // namespace

TEST(SessionSetCookie, OrdinarySessionIsUntouched) {
    const Session s = with_sizes(300, "Alice Liddell");
    const SessionCookie c = make(s);
    ASSERT_EQ(c.problem, SessionCookieProblem::none);
    EXPECT_LE(c.set_cookie.size(), kMaxSetCookieBytes);
    EXPECT_EQ(c.session.display_name, "Alice Liddell");
    EXPECT_EQ(c.untrimmed_bytes, c.set_cookie.size());
    EXPECT_EQ(opened_name(c), "Alice Liddell");
}

TEST(SessionSetCookie, TrimsTheDisplayNameToFit) {
    std::string name;
    for (int i = 0; i < 128; ++i)
        name += "\xc3\xa9";  // 256 bytes, 2 per character
    const SessionCookie c = make(with_sizes(1350, name));
    ASSERT_EQ(c.problem, SessionCookieProblem::none);
    EXPECT_GT(c.untrimmed_bytes, kMaxSetCookieBytes);
    EXPECT_LE(c.set_cookie.size(), kMaxSetCookieBytes);
    EXPECT_LT(c.session.display_name.size(), name.size());
    EXPECT_FALSE(c.session.display_name.empty());
    EXPECT_EQ(c.session.display_name.size() % 2, 0u);  // cut between characters
    EXPECT_EQ(name.rfind(c.session.display_name, 0), 0u);
    EXPECT_EQ(opened_name(c), c.session.display_name);
    // One more character would not have fitted.
    Session longer = c.session;
    longer.display_name = name.substr(0, c.session.display_name.size() + 2);
    EXPECT_GT(make(longer).untrimmed_bytes, kMaxSetCookieBytes);
}

TEST(SessionSetCookie, FallsBackToTheIdWhenNoPartOfTheNameFits) {
    // Some token size leaves room for a 1-byte id but not for one 4-byte
    // character of the name.
    bool fell_back = false;
    for (std::size_t tokens = 1300; tokens < 1600 && !fell_back; ++tokens) {
        Session s = with_sizes(tokens, "\xf0\x9f\x8e\xb5\xf0\x9f\x8e\xb5");
        s.user_id = "u";
        const SessionCookie c = make(s);
        if (c.problem == SessionCookieProblem::none && c.session.display_name == "u") {
            fell_back = true;
            EXPECT_LE(c.set_cookie.size(), kMaxSetCookieBytes);
            EXPECT_EQ(opened_name(c), "u");
        }
    }
    EXPECT_TRUE(fell_back);
}

TEST(SessionSetCookie, TooLargeTokensAreRefused) {
    const SessionCookie c = make(with_sizes(kMaxTokenBytes, "Alice"));
    EXPECT_EQ(c.problem, SessionCookieProblem::too_large);
    EXPECT_TRUE(c.set_cookie.empty());
    EXPECT_GT(c.untrimmed_bytes, kMaxSetCookieBytes);
}

TEST(LoginSetCookie, KeepsAReturnToThatFits) {
    const LoginTransaction login{"state", "verifier", "/dashboard?tab=top", 2000};
    const auto cookie = login_set_cookie(ring(), login, "__Host-spotauth_login_x", {true, 600});
    ASSERT_TRUE(cookie);
    EXPECT_LE(cookie->size(), kMaxLoginSetCookieBytes);
    const std::string value = cookie->substr(cookie->find('=') + 1, cookie->find(';') - cookie->find('=') - 1);
    EXPECT_EQ(open_login(ring(), value, 1000)->return_to, "/dashboard?tab=top");
}

TEST(LoginSetCookie, ALongReturnToBecomesTheRootSoThreeLoginsAndASessionFitIn8K) {
    const LoginTransaction login{std::string(43, 's'), std::string(43, 'v'), "/" + std::string(2000, 'p'), 2000};
    const auto cookie = login_set_cookie(ring(), login, "__Host-spotauth_login_0123456789abcdef", {true, 600});
    ASSERT_TRUE(cookie);
    EXPECT_LE(cookie->size(), kMaxLoginSetCookieBytes);
    const std::string value = cookie->substr(cookie->find('=') + 1, cookie->find(';') - cookie->find('=') - 1);
    const auto opened = open_login(ring(), value, 1000);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->return_to, "/");
    EXPECT_EQ(opened->state, login.state);
    EXPECT_LE(kMaxPendingLogins * kMaxLoginSetCookieBytes + kMaxSetCookieBytes, 8192u);
}
