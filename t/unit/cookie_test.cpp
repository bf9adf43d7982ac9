#include "spotauth/cookie.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

const CookieNames kPlain = cookie_names(false);

TEST(CookieNames, HostPrefixOnlyWhenSecure) {
    EXPECT_EQ(cookie_names(true).session, "__Host-spotauth");
    EXPECT_EQ(cookie_names(true).login_prefix, "__Host-spotauth_login");
    EXPECT_EQ(cookie_names(false).session, "spotauth");
    EXPECT_EQ(cookie_names(false).login_prefix, "spotauth_login");
}

TEST(CookieNames, SessionByItsExactNameLoginsByTheirPrefix) {
    EXPECT_TRUE(kPlain.is_ours("spotauth"));
    EXPECT_TRUE(kPlain.is_ours("spotauth_login_AbCdEfGh01234567"));
    EXPECT_TRUE(kPlain.is_ours("spotauth_login"));  // the single login cookie of earlier versions
    EXPECT_FALSE(kPlain.is_ours("spotauth_x"));
    EXPECT_FALSE(kPlain.is_ours("SPOTAUTH_login_x"));
    EXPECT_FALSE(kPlain.is_ours("__Host-spotauth_login_x"));
    EXPECT_FALSE(kPlain.is_login("spotauth"));
}

TEST(LoginCookieName, IsTheStatesHashNeverTheState) {
    const std::string name = login_cookie_name(kPlain, "the-state");
    EXPECT_EQ(name.rfind("spotauth_login_", 0), 0u);
    EXPECT_EQ(name.size(), std::string("spotauth_login_").size() + 16);
    EXPECT_EQ(name.find("the-state"), std::string::npos);
    EXPECT_EQ(name, login_cookie_name(kPlain, "the-state"));
    EXPECT_NE(name, login_cookie_name(kPlain, "other-state"));
    EXPECT_TRUE(kPlain.is_login(name));
    EXPECT_EQ(login_cookie_name(cookie_names(true), "the-state"), "__Host-" + name);
}

TEST(LoginCookies, ListsTheLoginCookiesInOrder) {
    EXPECT_EQ(login_cookies("spotauth_login_b=1; a=2; spotauth=3; spotauth_login_a=4", kPlain),
              (std::vector<std::string>{"spotauth_login_b", "spotauth_login_a"}));
    EXPECT_TRUE(login_cookies("spotauth=1; x=spotauth_login_a", kPlain).empty());
}

TEST(LoginCookiesToClear, TheOldestGiveWayToANewLogin) {
    using Names = std::vector<std::string>;
    EXPECT_TRUE(login_cookies_to_clear({}).empty());
    EXPECT_TRUE(login_cookies_to_clear({"a", "b"}).empty());
    EXPECT_EQ(login_cookies_to_clear({"a", "b", "c"}), Names{"a"});
    EXPECT_EQ(login_cookies_to_clear({"a", "b", "c", "d", "e"}), (Names{"a", "b", "c"}));
    EXPECT_EQ(login_cookies_to_clear({"a", "a", "b", "b"}), Names{});  // two logins, sent twice
    EXPECT_EQ(login_cookies_to_clear({"a", "b", "a", "c"}), Names{"a"});
}

TEST(StripCookies, RemovesOnlyOurCookies) {
    EXPECT_EQ(strip_cookies("a=1; spotauth=xyz; b=2", kPlain), "a=1; b=2");
    EXPECT_EQ(strip_cookies("spotauth=xyz;a=1", kPlain), "a=1");
    EXPECT_EQ(strip_cookies("spotauth_x=1; spotauth=2", kPlain), "spotauth_x=1");
    EXPECT_EQ(strip_cookies("spotauth_login_AAA=1; k=2; spotauth_login_BBB=3; spotauth_login=4", kPlain), "k=2");
    EXPECT_EQ(strip_cookies("__Host-spotauth=1; spotauth=2", cookie_names(true)), "spotauth=2");
}

// strip_cookies_into writes what strip_cookies answers, in the size announced.
TEST(StripCookies, IntoCallerMemoryMatchesTheString) {
    for (const std::string header : {"a=1; spotauth=xyz; b=2", "spotauth=xyz;a=1", "a=1;b=2;;c", "", ";;  ; spotauth",
                                     "spotauth=1", "  x=1 ;\tspotauth_login_A=2; y"}) {
        const std::string expected = strip_cookies(header, kPlain);
        const std::size_t size = stripped_cookies_size(header, kPlain);
        EXPECT_EQ(size, expected.size()) << header;
        std::string out(size + 1, '#');
        EXPECT_EQ(strip_cookies_into(header, kPlain, out.data()), size) << header;
        EXPECT_EQ(out, expected + "#") << header;  // nothing written past the size
    }
}

TEST(StripCookies, RemovesEveryDuplicate) {
    EXPECT_EQ(strip_cookies("spotauth=1; spotauth=2; keep=3; spotauth_login_a=4; spotauth_login_a=5", kPlain),
              "keep=3");
}

TEST(StripCookies, HandlesEmptyAndOddInput) {
    EXPECT_EQ(strip_cookies("", kPlain), "");
    EXPECT_EQ(strip_cookies(";;  ; spotauth", kPlain), "");
    EXPECT_EQ(strip_cookies("flag; x=1", kPlain), "flag; x=1");
}

TEST(SetCookie, CarriesSecurityAttributes) {
    EXPECT_EQ(set_cookie_value("__Host-spotauth", "v", {true, 60}),
              "__Host-spotauth=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
    EXPECT_EQ(set_cookie_value("spotauth", "", {false, 0}), "spotauth=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

TEST(FindCookie, ReadsTheFirstExactMatch) {
    EXPECT_EQ(find_cookie("a=1; spotauth=xyz; b=2", "spotauth"), "xyz");
    EXPECT_EQ(find_cookie("spotauth=first; spotauth=second", "spotauth"), "first");
    EXPECT_EQ(find_cookie("  spotauth = padded ;x=1", "spotauth"), "padded");
    EXPECT_EQ(find_cookie("spotauth=", "spotauth"), "");
    EXPECT_EQ(find_cookie("spotauth", "spotauth"), "");
    EXPECT_EQ(find_cookie("a=1", "spotauth"), std::nullopt);
    EXPECT_EQ(find_cookie("", "spotauth"), std::nullopt);
}

TEST(FindCookie, NamesAreCaseSensitiveAndCommasDoNotSplit) {
    // Browsers send names as they were set; another case is another cookie
    // (one a sibling subdomain may have tossed in to log the user out).
    EXPECT_EQ(find_cookie("__host-spotauth=junk; __Host-spotauth=real", "__Host-spotauth"), "real");
    EXPECT_EQ(find_cookie("SPOTAUTH=forged", "spotauth"), std::nullopt);
    EXPECT_EQ(find_cookie("a=1, spotauth=x", "spotauth"), std::nullopt);
    EXPECT_EQ(find_cookie("spotauth_login_a=x", "spotauth"), std::nullopt);
}

TEST(FindCookie, AgreesWithStripping) {
    for (const char* header :
         {"SPOTAUTH=a; spotauth=b", "__HOST-spotauth=a", "a=1, spotauth=x", "spotauth=1;spotauth=2", " spotauth =3",
          "spotauth_login_a=1; spotauth_login_a=2", "x=1; Spotauth_login_a=2"}) {
        const std::string stripped = strip_cookies(header, kPlain);
        EXPECT_EQ(find_cookie(stripped, "spotauth"), std::nullopt) << header;
        EXPECT_TRUE(login_cookies(stripped, kPlain).empty()) << header;
        for (const std::string& login : login_cookies(header, kPlain)) {
            EXPECT_TRUE(find_cookie(header, login)) << header;
        }
        if (!find_cookie(header, "spotauth") && login_cookies(header, kPlain).empty()) {
            EXPECT_EQ(stripped, strip_cookies(header, CookieNames{";", ";"})) << header;
        }
    }
}
