#include "spotauth/url.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

TEST(PercentEncode, KeepsOnlyUnreserved) {
    EXPECT_EQ(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
    EXPECT_EQ(percent_encode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
    EXPECT_EQ(percent_encode("\xc3\xa9"), "%C3%A9");
    EXPECT_EQ(percent_encode(""), "");
    EXPECT_EQ(percent_encode(std::string_view("a\0b", 3)), "a%00b");
    EXPECT_EQ(percent_encode("+%\x7f\xff"), "%2B%25%7F%FF");
}

TEST(PercentDecode, DecodesAndRejectsMalformed) {
    EXPECT_EQ(percent_decode("%2Fa+b", true), "/a b");
    EXPECT_EQ(percent_decode("%2Fa+b", false), "/a+b");
    EXPECT_FALSE(percent_decode("%2", true));
    EXPECT_FALSE(percent_decode("%zz", true));
    EXPECT_FALSE(percent_decode("abc%", true));
}

TEST(FormEncode, JoinsEscapedPairs) { EXPECT_EQ(form_encode({{"a", "1 2"}, {"b&", "="}}), "a=1%202&b%26=%3D"); }

TEST(CheckHttpUrl, AcceptsHttpAndHttps) {
    EXPECT_FALSE(check_http_url("https://accounts.spotify.com/api/token"));
    EXPECT_FALSE(check_http_url("http://127.0.0.1:8080/cb"));
}

TEST(CheckHttpUrl, RejectsEverythingElse) {
    EXPECT_TRUE(check_http_url("/auth/callback"));
    EXPECT_TRUE(check_http_url("ftp://example.org/"));
    EXPECT_TRUE(check_http_url("https://"));
    EXPECT_TRUE(check_http_url("https://example.org/#frag"));
    EXPECT_TRUE(check_http_url(""));
}

TEST(AppendQuery, PicksSeparator) {
    EXPECT_EQ(append_query("https://a/authorize", "x=1"), "https://a/authorize?x=1");
    EXPECT_EQ(append_query("https://a/authorize?p=0", "x=1"), "https://a/authorize?p=0&x=1");
}

TEST(SafeReturnTo, KeepsSameSitePaths) {
    EXPECT_EQ(safe_return_to("/dashboard"), "/dashboard");
    EXPECT_EQ(safe_return_to("%2Fdashboard%3Ftab%3D1"), "/dashboard?tab=1");
    EXPECT_EQ(safe_return_to("/a%20b"), "/a%20b");
    EXPECT_EQ(safe_return_to("/\xc3\xa9"), "/%C3%A9");
}

TEST(SafeReturnTo, FallsBackToRootForOpenRedirects) {
    for (const char* hostile :
         {"", "//evil.example", "/\\evil.example", "%2F%2Fevil.example", "%2F%5Cevil.example", "https://evil.example",
          "evil.example", "/ok%0D%0ASet-Cookie:x=1", "/a%00b", "/%", "javascript:alert(1)", "%252F%252Fevil.example"}) {
        EXPECT_EQ(safe_return_to(hostile), "/") << hostile;
    }
}

TEST(SafeReturnTo, BoundsLength) { EXPECT_EQ(safe_return_to("/" + std::string(5000, 'a')), "/"); }

TEST(OriginMatchesRequest, ComparesHostAndPort) {
    EXPECT_TRUE(origin_matches_request("https://example.org", "example.org", true));
    EXPECT_TRUE(origin_matches_request("http://127.0.0.1:8080", "127.0.0.1:8080", false));
    EXPECT_TRUE(origin_matches_request("https://Example.ORG", "example.org", true));
    EXPECT_FALSE(origin_matches_request("https://evil.example", "example.org", true));
    EXPECT_FALSE(origin_matches_request("https://example.org.evil.example", "example.org", true));
    EXPECT_FALSE(origin_matches_request("http://127.0.0.1:9999", "127.0.0.1:8080", false));
    EXPECT_FALSE(origin_matches_request("null", "example.org", true));
    EXPECT_FALSE(origin_matches_request("https://example.org", "", true));
}

TEST(OriginMatchesRequest, ComparesTheScheme) {
    EXPECT_FALSE(origin_matches_request("https://127.0.0.1:8080", "127.0.0.1:8080", false));
    EXPECT_FALSE(origin_matches_request("http://example.org:443", "example.org:443", true));
    EXPECT_FALSE(origin_matches_request("ftp://example.org", "example.org", false));
}

TEST(OriginMatchesRequest, DefaultPortsMayBeSpelledOut) {
    EXPECT_TRUE(origin_matches_request("https://example.org", "example.org:443", true));
    EXPECT_TRUE(origin_matches_request("https://example.org:443", "example.org", true));
    EXPECT_TRUE(origin_matches_request("http://example.org", "example.org:80", false));
    EXPECT_FALSE(origin_matches_request("https://example.org", "example.org:80", true));
}

TEST(OriginMatchesRequest, RefusesWhatIsNotAnOrigin) {
    EXPECT_FALSE(origin_matches_request("https://example.org/path", "example.org", true));
    EXPECT_FALSE(origin_matches_request("https://user@example.org", "example.org", true));
    EXPECT_FALSE(origin_matches_request("https://example.org", "user@example.org", true));
    EXPECT_FALSE(origin_matches_request("https://example.org", "example.org/x", true));
    EXPECT_FALSE(origin_matches_request("example.org", "example.org", true));
}

TEST(SameOriginRequest, SecFetchSiteIsAuthoritative) {
    EXPECT_TRUE(is_same_origin_request("same-origin", "https://evil.example", "example.org", true));
    EXPECT_TRUE(is_same_origin_request("none", "", "example.org", true));
    EXPECT_FALSE(is_same_origin_request("same-site", "https://example.org", "example.org", true));
    EXPECT_FALSE(is_same_origin_request("cross-site", "", "example.org", true));
}

TEST(SameOriginRequest, OriginDecidesWithoutSecFetchSite) {
    EXPECT_TRUE(is_same_origin_request("", "", "example.org", true));  // not a cross-site browser request
    EXPECT_TRUE(is_same_origin_request("", "https://example.org", "example.org", true));
    EXPECT_FALSE(is_same_origin_request("", "http://example.org", "example.org", true));
    EXPECT_FALSE(is_same_origin_request("", "https://example.org", "example.org", false));
}
