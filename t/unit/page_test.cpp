#include "spotauth/page.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace spotauth;

namespace {

PageFields hostile() {
    PageFields f;
    f.status = 403;
    f.code = "<code>";
    f.title = "T & \"t\"";
    f.description = "<script>alert('x')</script>";
    f.login_url = "/auth/login?return_to=%2Fa&x=\"><b>";
    f.home_url = "/";
    return f;
}

}  // namespace

TEST(PageTemplate, FillsEveryPlaceholder) {
    const auto page = PageTemplate::parse("{{status}}|{{code}}|{{title}}|{{description}}|{{login_url}}|{{home_url}}");
    ASSERT_TRUE(page) << page.error();
    PageFields f;
    f.status = 401;
    f.code = "session_expired";
    f.title = "Ended";
    f.description = "Sign in again.";
    f.login_url = "/auth/login";
    f.home_url = "/";
    EXPECT_EQ(page->render(f), "401|session_expired|Ended|Sign in again.|/auth/login|/");
}

TEST(PageTemplate, KeepsLiteralTextAndAllowsSpacesInBraces) {
    const auto page = PageTemplate::parse("<p>{{ title }}</p>{{\tcode\t}} { not a placeholder } }}");
    ASSERT_TRUE(page) << page.error();
    PageFields f;
    f.title = "x";
    f.code = "y";
    EXPECT_EQ(page->render(f), "<p>x</p>y { not a placeholder } }}");
    EXPECT_EQ(PageTemplate::parse("")->render(f), "");
    EXPECT_EQ(PageTemplate::parse("plain")->render(f), "plain");
}

TEST(PageTemplate, EscapesEveryValue) {
    const auto page = PageTemplate::parse(
        "<a href=\"{{login_url}}\" title='{{title}}'>{{description}}</a>{{code}}{{home_url}}{{status}}");
    ASSERT_TRUE(page);
    const std::string out = page->render(hostile());
    EXPECT_EQ(out.find("<script>"), std::string::npos);
    EXPECT_EQ(out.find("<b>"), std::string::npos);
    EXPECT_NE(out.find("href=\"/auth/login?return_to=%2Fa&amp;x=&quot;&gt;&lt;b&gt;\""), std::string::npos);
    EXPECT_NE(out.find("title='T &amp; &quot;t&quot;'"), std::string::npos);
    EXPECT_NE(out.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(out.find("&lt;code&gt;"), std::string::npos);
}

TEST(PageTemplate, RefusesUnknownPlaceholdersSayingWhere) {
    const auto page = PageTemplate::parse("<html>\n<p>{{title}}</p>\n<p>{{ user }}</p>");
    ASSERT_FALSE(page);
    EXPECT_NE(page.error().find("unknown placeholder \"{{user}}\" on line 3"), std::string::npos) << page.error();
    EXPECT_NE(page.error().find("{{login_url}}"), std::string::npos) << page.error();
    EXPECT_FALSE(PageTemplate::parse("{{}}"));
    EXPECT_FALSE(PageTemplate::parse("{{Title}}"));  // names are exact
}

TEST(PageTemplate, RefusesAnUnclosedPlaceholder) {
    const auto page = PageTemplate::parse("a\nb {{title");
    ASSERT_FALSE(page);
    EXPECT_NE(page.error().find("without \"}}\" on line 2"), std::string::npos) << page.error();
}

TEST(PageTemplate, RefusesTooLargeATemplate) {
    EXPECT_TRUE(PageTemplate::parse(std::string(kMaxPageTemplateBytes, 'x')));
    const auto page = PageTemplate::parse(std::string(kMaxPageTemplateBytes + 1, 'x'));
    ASSERT_FALSE(page);
    EXPECT_NE(page.error().find("65537 bytes"), std::string::npos) << page.error();
}

TEST(PageTemplate, BuiltinIsAResponsivePageWithEveryField) {
    const std::string out =
        PageTemplate::builtin().render(error_page_fields(Failure::forbidden, "/auth/login", "/team.html?tab=1"));
    EXPECT_EQ(out.rfind("<!doctype html>", 0), 0u);
    EXPECT_NE(out.find("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"), std::string::npos);
    EXPECT_NE(out.find("<title>No access</title>"), std::string::npos);
    EXPECT_NE(out.find("Error 403"), std::string::npos);
    EXPECT_NE(out.find("forbidden"), std::string::npos);
    // "No access": another account (NoAccessOffersAnotherAccount).
    EXPECT_NE(out.find("href=\"/auth/login?switch=1&amp;return_to=%2Fteam.html%3Ftab%3D1\">Sign in with another "
                       "account</a>"),
              std::string::npos);
    EXPECT_NE(out.find("href=\"/\""), std::string::npos);
    // Self-contained: nothing loaded from anywhere, not even /favicon.ico
    // (an empty inline icon is the one <link>).
    EXPECT_EQ(out.find("src="), std::string::npos);
    const std::string icon = "<link rel=\"icon\" href=\"data:,\">";
    ASSERT_NE(out.find(icon), std::string::npos);
    EXPECT_EQ(out.find("<link", out.find(icon) + 1), std::string::npos);
    EXPECT_EQ(out.find("<link"), out.find(icon));
    EXPECT_EQ(out.find("url("), std::string::npos);
    // A spent callback address does not stay in the address bar.
    EXPECT_NE(out.find("history.replaceState(null, \"\", document.getElementById(\"home\").href)"), std::string::npos);
}

TEST(PageTemplate, BuiltinIsShippedAsAFileToStartFrom) {
    std::ifstream in(SPOTAUTH_SOURCE_DIR "/conf/spotauth-error.html", std::ios::binary);
    ASSERT_TRUE(in);
    std::ostringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), builtin_page_template());
}

TEST(ErrorPageFields, LoginLinkKeepsReturnTo) {
    const PageFields f = error_page_fields(Failure::session_expired, "/auth/login", "/dashboard.html?a=b");
    EXPECT_EQ(f.status, 401);
    EXPECT_EQ(f.code, "session_expired");
    EXPECT_EQ(f.login_url, "/auth/login?return_to=%2Fdashboard.html%3Fa%3Db");
    EXPECT_EQ(f.home_url, "/");
    EXPECT_FALSE(f.title.empty());
    EXPECT_FALSE(f.description.empty());
    // The site's root needs no return_to: it is the login's default.
    EXPECT_EQ(error_page_fields(Failure::consent_declined, "/auth/login", "/").login_url, "/auth/login");
    EXPECT_EQ(error_page_fields(Failure::consent_declined, "/auth/login", "").login_url, "/auth/login");
    EXPECT_EQ(error_page_fields(Failure::forbidden, "/auth/login", "").title, "No access");
}

// Signing the same account in again would not help on "No access": its
// link asks the provider which account to use.
TEST(ErrorPageFields, NoAccessOffersAnotherAccount) {
    const PageFields f = error_page_fields(Failure::forbidden, "/auth/login", "/members.html?x=1");
    EXPECT_EQ(f.login_url, "/auth/login?switch=1&return_to=%2Fmembers.html%3Fx%3D1");
    EXPECT_EQ(f.login_label, "Sign in with another account");
    EXPECT_EQ(error_page_fields(Failure::forbidden, "/auth/login", "/").login_url, "/auth/login?switch=1");
    const PageFields other = error_page_fields(Failure::session_expired, "/auth/login", "/");
    EXPECT_EQ(other.login_url, "/auth/login");
    EXPECT_EQ(other.login_label, "Sign in with Spotify");
    const std::string page = PageTemplate::builtin().render(f);
    EXPECT_NE(page.find("href=\"/auth/login?switch=1&amp;return_to=%2Fmembers.html%3Fx%3D1\">Sign in with another "
                        "account</a>"),
              std::string::npos);
}

TEST(Notice, CodesAreStable) {
    EXPECT_EQ(notice_code(Notice::logged_out), "logged_out");
    EXPECT_EQ(notice_code(Notice::session_expired), "session_expired");
    EXPECT_EQ(notice_code(Notice::session_revoked), "session_revoked");
    EXPECT_EQ(notice_code(Notice::refresh_failed), "refresh_failed");
}

TEST(Notice, IsAddedToTheQuery) {
    EXPECT_EQ(with_notice("/", Notice::logged_out), "/?spotauth_notice=logged_out");
    EXPECT_EQ(with_notice("/a?b=c", Notice::logged_out), "/a?b=c&spotauth_notice=logged_out");
    EXPECT_EQ(with_notice("/a#top", Notice::session_expired), "/a?spotauth_notice=session_expired#top");
    // A notice already in the page's query is replaced, not repeated.
    EXPECT_EQ(with_notice("/?spotauth_notice=session_expired", Notice::logged_out), "/?spotauth_notice=logged_out");
    EXPECT_EQ(with_notice("/a?x=1&spotauth_notice=refresh_failed&y=2#f", Notice::logged_out),
              "/a?x=1&y=2&spotauth_notice=logged_out#f");
    EXPECT_EQ(with_notice("/a?spotauth_notices=1", Notice::logged_out),
              "/a?spotauth_notices=1&spotauth_notice=logged_out");
    // However the name is encoded, as URLSearchParams would decode it.
    EXPECT_EQ(with_notice("/?spotauth%5Fnotice=session_revoked&spotauth_notic%65=x", Notice::logged_out),
              "/?spotauth_notice=logged_out");
    EXPECT_EQ(without_notice("/a?b=1&&spotauth_notice&c"), "/a?b=1&c");
}

TEST(Notice, ALoginForgetsTheNoticeThatSignedTheUserOut) {
    EXPECT_EQ(login_return_to("/dashboard.html?spotauth_notice=logged_out"), "/dashboard.html");
    EXPECT_EQ(login_return_to("/a?x=1&spotauth_notice=session_expired#top"), "/a?x=1#top");
    EXPECT_EQ(login_return_to("https://evil.example/"), "/");
    EXPECT_EQ(login_return_to(""), "/");
}
