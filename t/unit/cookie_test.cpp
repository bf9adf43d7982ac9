#include "spotauth/cookie.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

TEST(CookieNames, HostPrefixOnlyWhenSecure) {
    EXPECT_EQ(cookie_names(true).session, "__Host-spotauth");
    EXPECT_EQ(cookie_names(true).login, "__Host-spotauth_login");
    EXPECT_EQ(cookie_names(false).session, "spotauth");
}

// strip_cookies_into writes what strip_cookies answers, in the size announced.
TEST(StripCookies, IntoCallerMemoryMatchesTheString) {
    for (const std::string header : {"a=1; spotauth=xyz; b=2", "spotauth=xyz;a=1", "a=1;b=2;;c", "",
                                     ";;  ; spotauth", "spotauth=1", "  x=1 ;\tspotauth_login=2; y"}) {
        const std::string expected = strip_cookies(header, {"spotauth", "spotauth_login"});
        const std::size_t size = stripped_cookies_size(header, {"spotauth", "spotauth_login"});
        EXPECT_EQ(size, expected.size()) << header;
        std::string out(size + 1, '#');
        EXPECT_EQ(strip_cookies_into(header, {"spotauth", "spotauth_login"}, out.data()), size) << header;
        EXPECT_EQ(out, expected + "#") << header;  // nothing written past the size
    }
}

TEST(StripCookies, RemovesOnlyNamedCookies) {
    EXPECT_EQ(strip_cookies("a=1; spotauth=xyz; b=2", {"spotauth"}), "a=1; b=2");
    EXPECT_EQ(strip_cookies("spotauth=xyz;a=1", {"spotauth", "spotauth_login"}), "a=1");
    EXPECT_EQ(strip_cookies("spotauth_x=1; spotauth=2", {"spotauth"}), "spotauth_x=1");
}

TEST(StripCookies, RemovesEveryDuplicate) {
    EXPECT_EQ(strip_cookies("spotauth=1; spotauth=2; keep=3; spotauth_login=4",
                            {"spotauth", "spotauth_login"}),
              "keep=3");
}

TEST(StripCookies, HandlesEmptyAndOddInput) {
    EXPECT_EQ(strip_cookies("", {"spotauth"}), "");
    EXPECT_EQ(strip_cookies(";;  ; spotauth", {"spotauth"}), "");
    EXPECT_EQ(strip_cookies("flag; x=1", {"spotauth"}), "flag; x=1");
}

TEST(SetCookie, CarriesSecurityAttributes) {
    EXPECT_EQ(set_cookie_value("__Host-spotauth", "v", {true, 60}),
              "__Host-spotauth=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
    EXPECT_EQ(set_cookie_value("spotauth", "", {false, 0}),
              "spotauth=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
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
    EXPECT_EQ(find_cookie("spotauth_login=x", "spotauth"), std::nullopt);
}

TEST(FindCookie, AgreesWithStripping) {
    for (const char* header : {"SPOTAUTH=a; spotauth=b", "__HOST-spotauth=a", "a=1, spotauth=x",
                               "spotauth=1;spotauth=2", " spotauth =3"}) {
        const std::string stripped = strip_cookies(header, {"spotauth"});
        EXPECT_EQ(find_cookie(stripped, "spotauth"), std::nullopt) << header;
        if (!find_cookie(header, "spotauth")) {
            EXPECT_EQ(stripped, strip_cookies(header, {})) << header;
        }
    }
}
