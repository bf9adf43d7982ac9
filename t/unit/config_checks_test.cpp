#include "spotauth/config_checks.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

ProtectedLocation api(std::optional<std::string> error_401 = std::string("@spotify_replay")) {
    ProtectedLocation l;
    l.name = "/api/spotify/";
    l.mode = ProtectMode::on;
    l.has_content_handler = true;
    l.error_401_target = std::move(error_401);
    return l;
}

ProtectedLocation replay(ProtectMode mode = ProtectMode::retry) {
    ProtectedLocation l;
    l.name = "@spotify_replay";
    l.mode = mode;
    l.named = true;
    l.has_content_handler = true;
    return l;
}

ProtectedLocation page() {
    ProtectedLocation l;
    l.name = "/dashboard.html";
    l.mode = ProtectMode::redirect;
    return l;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(ProtectedLocations, TheTemplatesLayoutIsQuiet) {
    EXPECT_TRUE(check_protected_locations({api(), replay(), page()}, {"@spotify_replay"}).empty());
}

TEST(ProtectedLocations, SpotauthOnWithoutContentHandlerIsNamed) {
    ProtectedLocation l = api();
    l.has_content_handler = false;
    const auto messages = check_protected_locations({l, replay()}, {"@spotify_replay"});
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].location, 0u);
    EXPECT_TRUE(contains(messages[0].text, "\"spotauth on\" in location \"/api/spotify/\" has no content handler"));
    EXPECT_TRUE(contains(messages[0].text, "Add the API's proxy_pass")) << messages[0].text;
}

TEST(ProtectedLocations, ReplayLocationWithoutContentHandlerIsNamed) {
    ProtectedLocation r = replay();
    r.has_content_handler = false;
    const auto messages = check_protected_locations({api(), r}, {"@spotify_replay"});
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].location, 1u);
    EXPECT_TRUE(contains(messages[0].text, "\"spotauth retry\" in location \"@spotify_replay\""));
}

TEST(ProtectedLocations, PagesServedFromRootAreFine) { EXPECT_TRUE(check_protected_locations({page()}, {}).empty()); }

TEST(ProtectedLocations, ApiWithoutErrorPage401Warns) {
    const auto messages = check_protected_locations({api(std::nullopt), replay()}, {"@spotify_replay"});
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_TRUE(contains(messages[0].text, "location \"/api/spotify/\" has \"spotauth on\" but no \"error_page 401\""));
    EXPECT_TRUE(contains(messages[0].text, "error_page 401 = @spotify_replay;"));
    EXPECT_TRUE(contains(messages[0].text, "location @spotify_replay { spotauth retry;"));
}

TEST(ProtectedLocations, ErrorPage401ToTheWrongPlaceWarns) {
    const auto to_uri = check_protected_locations({api(std::string("/401.html")), replay()}, {"@spotify_replay"});
    ASSERT_EQ(to_uri.size(), 1u);
    EXPECT_TRUE(contains(to_uri[0].text, "goes to \"/401.html\", which is not a named location (location @name)"));
    const auto missing = check_protected_locations({api(std::string("@elsewhere")), replay()}, {"@spotify_replay"});
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_TRUE(contains(missing[0].text, "\"@elsewhere\", which is not a named location of this server"));
    // A named location without spotauth: it proxies, but with the same token.
    const auto unprotected = check_protected_locations({api(std::string("@plain"))}, {"@plain"});
    ASSERT_EQ(unprotected.size(), 1u);
    EXPECT_TRUE(contains(unprotected[0].text, "\"@plain\", which has no \"spotauth retry\""));
    const auto not_retry = check_protected_locations({api(), replay(ProtectMode::on)}, {"@spotify_replay"});
    ASSERT_GE(not_retry.size(), 1u);
    EXPECT_TRUE(contains(not_retry[0].text, "\"@spotify_replay\", which has no \"spotauth retry\""));
}

TEST(ProtectedLocations, AnErrorPageWithVariablesIsNotJudged) {
    ProtectedLocation l = api(std::nullopt);
    l.error_401_dynamic = true;
    EXPECT_TRUE(check_protected_locations({l}, {}).empty());
}

TEST(RetryPlacement, OnlyNamedLocations) {
    EXPECT_FALSE(retry_placement_problem(true));
    const auto problem = retry_placement_problem(false);
    ASSERT_TRUE(problem);
    EXPECT_TRUE(contains(*problem, "\"spotauth retry\" is only allowed in a named location (location @name)"));
    EXPECT_TRUE(contains(*problem, "refresh the token on every request"));
}

TEST(ServerNames, NginxFormsMatchAsNginxDoes) {
    EXPECT_TRUE(server_names_accept({"www.example.org"}, "www.example.org"));
    EXPECT_FALSE(server_names_accept({"example.org"}, "www.example.org"));
    EXPECT_TRUE(server_names_accept({"example.org", "www.example.org"}, "www.example.org"));
    EXPECT_TRUE(server_names_accept({"*.example.org"}, "a.b.example.org"));
    EXPECT_FALSE(server_names_accept({"*.example.org"}, "example.org"));
    EXPECT_TRUE(server_names_accept({".example.org"}, "example.org"));
    EXPECT_TRUE(server_names_accept({".example.org"}, "www.example.org"));
    EXPECT_FALSE(server_names_accept({".example.org"}, "badexample.org"));
    EXPECT_TRUE(server_names_accept({"www.example.*"}, "www.example.com"));
    EXPECT_FALSE(server_names_accept({"www.example.*"}, "www.example.co.uk"));
    EXPECT_TRUE(server_names_accept({"[::1]"}, "[::1]"));
}

TEST(ServerNames, UnknowableOrCatchAllServersAccept) {
    EXPECT_TRUE(server_names_accept({""}, "www.example.org"));         // no server_name
    EXPECT_TRUE(server_names_accept({"_"}, "www.example.org"));        // the usual catch-all
    EXPECT_TRUE(server_names_accept({"~^www\\.", "a.org"}, "b.org"));  // a regex: not evaluated
    EXPECT_FALSE(server_names_accept({"_", "a.org"}, "b.org"));
}
