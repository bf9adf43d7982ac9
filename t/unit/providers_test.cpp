// spotauth_provider's table, how it fills what nginx.conf leaves out, and
// the provider's name in what people read.
#include "spotauth/errors.hpp"
#include "spotauth/page.hpp"
#include "spotauth/providers.hpp"
#include "spotauth/settings.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

const char* kKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n";  // 32 bytes

// Only what no provider knows: the app's own values.
RawSettings own_values(const std::string& provider) {
    RawSettings raw;
    raw.provider = provider;
    raw.client_id = "my-client";
    raw.client_secret = ConfigFile{"/etc/nginx/secret", std::string("s3cret\n")};
    raw.key_files = {ConfigFile{"/etc/nginx/spotauth.key", std::string(kKey)}};
    raw.redirect_uri = "https://www.example.org/auth/callback";
    return raw;
}

ClientConfig client_of(const RawSettings& raw) {
    const auto checked = check_settings(raw);
    EXPECT_TRUE(checked) << (checked ? "" : checked.error().text);
    return checked ? checked->client : ClientConfig{};
}

}  // namespace

TEST(Providers, EveryNameIsKnownAndNothingElse) {
    for (const char* name : {"spotify", "google", "github", "kakao", "naver"}) {
        ASSERT_NE(find_provider(name), nullptr) << name;
        EXPECT_EQ(find_provider(name)->name, name);
    }
    EXPECT_EQ(find_provider("Kakao"), nullptr);
    EXPECT_EQ(find_provider(""), nullptr);
    EXPECT_EQ(find_provider("facebook"), nullptr);
    EXPECT_EQ(provider_names(), "spotify, google, github, kakao, naver");
    EXPECT_EQ(&default_provider(), find_provider("spotify"));
}

TEST(Providers, ClientAuthValues) {
    EXPECT_EQ(parse_client_auth("basic"), ClientAuth::basic);
    EXPECT_EQ(parse_client_auth("post"), ClientAuth::post);
    EXPECT_FALSE(parse_client_auth("Post"));
    EXPECT_FALSE(parse_client_auth("client_secret_post"));
    EXPECT_FALSE(parse_client_auth(""));
}

TEST(Providers, WithoutAProviderEverythingIsSpotifysAsBefore) {
    const ClientConfig c = client_of(own_values(""));
    EXPECT_EQ(c.authorize_url, "https://accounts.spotify.com/authorize");
    EXPECT_EQ(c.token_url, "https://accounts.spotify.com/api/token");
    EXPECT_EQ(c.api_url, "https://api.spotify.com");
    EXPECT_EQ(c.profile_url, "https://api.spotify.com/v1/me");
    EXPECT_EQ(c.scopes, "user-read-email");
    EXPECT_EQ(c.profile_claims.id, "id");
    EXPECT_EQ(c.profile_claims.name, "display_name");
    EXPECT_EQ(c.client_auth, ClientAuth::basic);
    EXPECT_EQ(c.authorize_params, "");
    EXPECT_EQ(c.provider_name, "Spotify");
}

TEST(Providers, SpotifysProfileFollowsAnExplicitApiUrl) {
    RawSettings raw = own_values("spotify");
    raw.api_url = "http://127.0.0.1:9/";
    EXPECT_EQ(client_of(raw).profile_url, "http://127.0.0.1:9/v1/me");
}

TEST(Providers, KakaoInOneLine) {
    const ClientConfig c = client_of(own_values("kakao"));
    EXPECT_EQ(c.authorize_url, "https://kauth.kakao.com/oauth/authorize");
    EXPECT_EQ(c.token_url, "https://kauth.kakao.com/oauth/token");
    EXPECT_EQ(c.profile_url, "https://kapi.kakao.com/v2/user/me");
    EXPECT_EQ(c.profile_claims.id, "id");
    EXPECT_EQ(c.profile_claims.name, "kakao_account.profile.nickname");
    EXPECT_EQ(c.scopes, "profile_nickname");
    EXPECT_EQ(c.client_auth, ClientAuth::post);
    EXPECT_EQ(c.provider_name, "Kakao");
}

TEST(Providers, NaverGoogleGithub) {
    const ClientConfig naver = client_of(own_values("naver"));
    EXPECT_EQ(naver.token_url, "https://nid.naver.com/oauth2.0/token");
    EXPECT_EQ(naver.profile_url, "https://openapi.naver.com/v1/nid/me");
    EXPECT_EQ(naver.profile_claims.id, "response.id");
    EXPECT_EQ(naver.scopes, "");
    EXPECT_EQ(naver.client_auth, ClientAuth::post);
    const ClientConfig google = client_of(own_values("google"));
    EXPECT_EQ(google.authorize_url, "https://accounts.google.com/o/oauth2/v2/auth");
    EXPECT_EQ(google.token_url, "https://oauth2.googleapis.com/token");
    EXPECT_EQ(google.profile_claims.id, "sub");
    EXPECT_EQ(google.authorize_params, "access_type=offline&prompt=consent");
    EXPECT_NE(authorize_url(google, "s", "c").find("&access_type=offline&prompt=consent"), std::string::npos);
    const ClientConfig github = client_of(own_values("github"));
    EXPECT_EQ(github.token_url, "https://github.com/login/oauth/access_token");
    EXPECT_EQ(github.profile_url, "https://api.github.com/user");
    EXPECT_EQ(github.profile_claims.name, "login");
    EXPECT_EQ(github.provider_name, "GitHub");
}

TEST(Providers, EveryPresetUrlPassesTheUrlCheck) {
    for (const char* name : {"spotify", "google", "github", "kakao", "naver"}) {
        EXPECT_TRUE(check_settings(own_values(name))) << name;
    }
}

TEST(Providers, ExplicitValuesWinOneByOne) {
    RawSettings raw = own_values("kakao");
    raw.token_url = "http://127.0.0.1:9/token";
    raw.profile_claims.name = "properties.nickname";
    raw.client_auth = ClientAuth::basic;
    raw.scopes = "profile_nickname account_email";
    const ClientConfig c = client_of(raw);
    EXPECT_EQ(c.token_url, "http://127.0.0.1:9/token");
    EXPECT_EQ(c.authorize_url, "https://kauth.kakao.com/oauth/authorize");  // still Kakao's
    EXPECT_EQ(c.profile_claims.id, "id");
    EXPECT_EQ(c.profile_claims.name, "properties.nickname");
    EXPECT_EQ(c.client_auth, ClientAuth::basic);
    EXPECT_EQ(c.scopes, "profile_nickname account_email");
    EXPECT_EQ(c.provider_name, "Kakao");
}

TEST(Providers, ClientAuthPostWithoutAProvider) {
    RawSettings raw = own_values("");
    raw.client_auth = ClientAuth::post;
    EXPECT_EQ(client_of(raw).client_auth, ClientAuth::post);
}

TEST(Providers, AnUnknownNameIsRefused) {
    const auto checked = check_settings(own_values("myspace"));
    ASSERT_FALSE(checked);
    EXPECT_NE(checked.error().text.find("unknown spotauth_provider \"myspace\""), std::string::npos);
    EXPECT_NE(checked.error().text.find("spotify, google, github, kakao, naver"), std::string::npos);
}

TEST(ProviderName, NginxTMessagesNameTheProviderInUse) {
    RawSettings raw = own_values("naver");
    raw.client_secret.reset();
    EXPECT_NE(check_settings(raw).error().text.find("a file holding the Naver app's client secret"), std::string::npos);
    raw = own_values("kakao");
    raw.redirect_uri.clear();
    EXPECT_NE(check_settings(raw).error().text.find("as registered with Kakao"), std::string::npos);
    raw.provider.clear();
    EXPECT_NE(check_settings(raw).error().text.find("as registered with Spotify"), std::string::npos);
}

TEST(ProviderName, MessagesAndPagesNameTheProviderInUse) {
    EXPECT_EQ(error_reply(Failure::code_exchange_failed, "Kakao").description,
              "Kakao did not accept the sign-in; try again.");
    EXPECT_EQ(error_reply(Failure::code_exchange_failed).description, "Spotify did not accept the sign-in; try again.");
    EXPECT_EQ(error_reply(Failure::consent_declined, "Naver").description,
              "You declined to connect your Naver account.");
    EXPECT_EQ(error_reply(Failure::provider_unavailable, "GitHub").description,
              "GitHub's sign-in service did not answer; try again.");
    const PageFields page = error_page_fields(Failure::refresh_refused, "/auth/login", "/", "Google");
    EXPECT_EQ(page.title, "Your Google session ended");
    EXPECT_EQ(page.description, "Google no longer accepts this session; sign in again.");
    EXPECT_EQ(error_page_fields(Failure::provider_unavailable, "/auth/login", "/").title, "Spotify is not answering");
}

TEST(ProviderName, NoDescriptionNamesSpotifyForAnotherProvider) {
    for (int f = 0; f <= static_cast<int>(Failure::method_not_allowed); ++f) {
        const auto failure = static_cast<Failure>(f);
        EXPECT_EQ(error_reply(failure, "Kakao").description.find("Spotify"), std::string::npos) << f;
        EXPECT_EQ(error_page_fields(failure, "/auth/login", "/", "Kakao").title.find("Spotify"), std::string::npos)
            << f;
    }
}

TEST(ProviderName, TheBuiltinPageSignsInWithTheProvider) {
    const std::string kakao =
        PageTemplate::builtin().render(error_page_fields(Failure::code_exchange_failed, "/auth/login", "/", "Kakao"));
    EXPECT_NE(kakao.find(">Sign in with Kakao</a>"), std::string::npos);
    EXPECT_EQ(kakao.find("Spotify"), std::string::npos);
    const std::string spotify =
        PageTemplate::builtin().render(error_page_fields(Failure::code_exchange_failed, "/auth/login", "/"));
    EXPECT_NE(spotify.find(">Sign in with Spotify</a>"), std::string::npos);
    const auto own = PageTemplate::parse("<b>{{ provider }}</b>");
    ASSERT_TRUE(own);
    EXPECT_EQ(own->render(error_page_fields(Failure::forbidden, "/l", "/", "<Naver>")), "<b>&lt;Naver&gt;</b>");
}
