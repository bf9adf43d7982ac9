#include "spotauth/responses.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

Session alice() {
    Session s;
    s.user_id = "alice";
    s.display_name = "Alice";
    s.access_token = "BQ-secret";
    s.refresh_token = "AQ-secret";
    s.access_expires_at = 1100;
    s.expires_at = 9000;
    return s;
}

}  // namespace

TEST(ErrorJson, HasStableShape) {
    EXPECT_EQ(error_json("not_authenticated", "Sign in.", "/auth/login"),
              R"({"error":"not_authenticated","error_description":"Sign in.","login_url":"/auth/login"})");
    EXPECT_EQ(error_json("x", "y"), R"({"error":"x","error_description":"y"})");
}

TEST(ErrorJson, SurvivesInvalidUtf8) { EXPECT_NO_THROW(error_json("x", "\xff\xfe")); }

TEST(SessionJson, NeverContainsTokens) {
    const Session s = alice();
    const std::string body = session_json(&s, "");
    EXPECT_EQ(body, R"({"authenticated":true,"expires_at":9000,"user":{"display_name":"Alice","id":"alice"}})");
    EXPECT_EQ(body.find("secret"), std::string::npos);
}

TEST(SessionJson, SignedOutAndErrors) {
    EXPECT_EQ(session_json(nullptr, ""), R"({"authenticated":false})");
    EXPECT_EQ(session_json(nullptr, "refresh_failed"), R"({"authenticated":false,"error":"refresh_failed"})");
    const Session s = alice();
    EXPECT_NE(session_json(&s, "token_endpoint_unavailable").find(R"("error":"token_endpoint_unavailable")"),
              std::string::npos);
}

TEST(TokenJson, AccessTokenOnly) {
    EXPECT_EQ(token_json(alice(), 1000), R"({"access_token":"BQ-secret","expires_in":100})");
    EXPECT_EQ(token_json(alice(), 2000), R"({"access_token":"BQ-secret","expires_in":0})");
    EXPECT_EQ(token_error_json("refresh_failed"), R"({"access_token":null,"error":"refresh_failed"})");
}

TEST(PrefersHtml, BrowserNavigationVersusFetch) {
    EXPECT_TRUE(prefers_html("text/html,application/xhtml+xml,*/*;q=0.8"));
    EXPECT_FALSE(prefers_html("*/*"));
    EXPECT_FALSE(prefers_html("application/json"));
}
