#include "spotauth/settings.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

const char* kKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n";  // 32 bytes

RawSettings valid() {
    RawSettings raw;
    raw.client_id = "0123456789abcdef0123456789abcdef";
    raw.client_secret = ConfigFile{"/etc/nginx/secret", std::string("s3cret\n")};
    raw.key_files = {ConfigFile{"/etc/nginx/spotauth.key", std::string(kKey)}};
    raw.redirect_uri = "https://www.example.org/auth/callback";
    raw.scopes = "user-read-email";
    raw.authorize_url = "https://accounts.spotify.com/authorize";
    raw.token_url = "https://accounts.spotify.com/api/token";
    raw.api_url = "https://api.spotify.com";
    return raw;
}

std::string error_of(const RawSettings& raw) {
    const auto checked = check_settings(raw);
    EXPECT_FALSE(checked);
    return checked ? "" : checked.error().text;
}

SettingsMessage failure_of(const RawSettings& raw) {
    const auto checked = check_settings(raw);
    EXPECT_FALSE(checked);
    return checked ? SettingsMessage{} : checked.error();
}

std::vector<std::string> warnings_of(const RawSettings& raw) {
    const auto checked = check_settings(raw);
    EXPECT_TRUE(checked);
    std::vector<std::string> texts;
    for (const SettingsMessage& w : checked ? checked->warnings : std::vector<SettingsMessage>{}) {
        texts.push_back(w.text);
    }
    return texts;
}

}  // namespace

TEST(CheckSettings, ValidSettingsMakeAClient) {
    const auto checked = check_settings(valid());
    ASSERT_TRUE(checked);
    EXPECT_EQ(checked->client.client_secret, "s3cret");  // trailing newline dropped
    EXPECT_EQ(checked->keys.size(), 1u);
    EXPECT_TRUE(checked->warnings.empty());
}

// The key that seals is the key file's bound to the client id, so servers
// sharing a key file with different client ids do not share sessions.
TEST(CheckSettings, KeysAreBoundToTheClientId) {
    const auto checked = check_settings(valid());
    ASSERT_TRUE(checked);
    const Key file_key = *parse_key_file(kKey);
    EXPECT_EQ(checked->keys.at(0).secret, client_key(file_key, valid().client_id)->secret);
    EXPECT_NE(checked->keys.at(0).secret, file_key.secret);
    RawSettings other = valid();
    other.client_id = "fedcba9876543210fedcba9876543210";
    EXPECT_NE(check_settings(other)->keys.at(0).secret, checked->keys.at(0).secret);
}

TEST(CheckSettings, EachMissingPieceNamesItsDirective) {
    RawSettings raw = valid();
    raw.client_id.clear();
    EXPECT_NE(error_of(raw).find("\"spotauth_client_id\" is required"), std::string::npos);
    raw = valid();
    raw.client_secret.reset();
    EXPECT_NE(error_of(raw).find("\"spotauth_client_secret_file\" is required"), std::string::npos);
    raw = valid();
    raw.key_files.clear();
    EXPECT_NE(error_of(raw).find("openssl rand -base64 32"), std::string::npos);
    raw = valid();
    raw.redirect_uri.clear();
    EXPECT_NE(error_of(raw).find("\"spotauth_redirect_uri\" is required"), std::string::npos);
}

TEST(CheckSettings, FileProblemsNameTheFile) {
    RawSettings raw = valid();
    raw.client_secret = ConfigFile{"/x/secret", Expected<std::string>::failure("cannot be read: No such file")};
    EXPECT_EQ(error_of(raw), "spotauth: spotauth_client_secret_file \"/x/secret\" cannot be read: No such file");
    raw.client_secret = ConfigFile{"/x/secret", std::string(" \n")};
    EXPECT_EQ(error_of(raw), "spotauth: spotauth_client_secret_file \"/x/secret\" is empty");
    raw = valid();
    raw.key_files.push_back(ConfigFile{"/x/short.key", std::string("c2hvcnQ=")});
    EXPECT_NE(error_of(raw).find("spotauth_key_file \"/x/short.key\" holds 5 bytes"), std::string::npos);
}

TEST(CheckSettings, UrlsMustBeAbsoluteHttp) {
    RawSettings raw = valid();
    raw.token_url = "accounts.example/api/token";
    EXPECT_NE(error_of(raw).find("spotauth_token_url \"accounts.example/api/token\" is not a valid absolute URL"),
              std::string::npos);
    raw = valid();
    raw.redirect_uri = "ftp://example.org/cb";
    EXPECT_NE(error_of(raw).find("must start with http:// or https://"), std::string::npos);
}

TEST(CheckSettings, SecureCookiesOverHttpWarn) {
    RawSettings raw = valid();
    raw.redirect_uri = "http://127.0.0.1:8080/auth/callback";
    auto checked = check_settings(raw);
    ASSERT_TRUE(checked);
    ASSERT_EQ(checked->warnings.size(), 1u);
    EXPECT_EQ(checked->warnings[0].directive, Directive::redirect_uri);
    EXPECT_NE(checked->warnings[0].text.find("browsers only keep Secure cookies"), std::string::npos);
    raw.secure_cookies = false;
    checked = check_settings(raw);
    EXPECT_TRUE(checked->warnings.empty());
}

TEST(CheckSettings, MessagesSayWhichDirectiveTheyAreAbout) {
    RawSettings raw = valid();
    raw.client_id.clear();
    EXPECT_EQ(failure_of(raw).directive, Directive::use);
    raw = valid();
    raw.key_files.push_back(ConfigFile{"/x/short.key", std::string("c2hvcnQ=")});
    const SettingsMessage m = failure_of(raw);
    EXPECT_EQ(m.directive, Directive::key_file);
    EXPECT_EQ(m.index, 1u);
    raw = valid();
    raw.client_secret = ConfigFile{"/x/secret", std::string("")};
    EXPECT_EQ(failure_of(raw).directive, Directive::client_secret_file);
    raw = valid();
    raw.api_url = "api.example";
    EXPECT_EQ(failure_of(raw).directive, Directive::api_url);
}

TEST(CheckSettings, ProfileUrlDefaultsUnderTheApiAndIsChecked) {
    RawSettings raw = valid();
    auto checked = check_settings(raw);
    ASSERT_TRUE(checked);
    EXPECT_EQ(checked->client.profile_url, "https://api.spotify.com/v1/me");
    raw.profile_url = "https://api.github.com/user";
    raw.profile_claims = {"id", "login"};
    checked = check_settings(raw);
    ASSERT_TRUE(checked);
    EXPECT_EQ(checked->client.profile_url, "https://api.github.com/user");
    EXPECT_EQ(checked->client.profile_claims.name, "login");
    raw.profile_url = "/user";
    const SettingsMessage m = failure_of(raw);
    EXPECT_EQ(m.directive, Directive::profile_url);
    EXPECT_NE(m.text.find("spotauth_profile_url \"/user\" is not a valid absolute URL"), std::string::npos);
}

TEST(CheckSettings, ClientIdThatIsNotSpotifysFormatWarns) {
    RawSettings raw = valid();
    raw.client_id = "CHANGE-ME-client-id";
    const auto checked = check_settings(raw);
    ASSERT_TRUE(checked);
    ASSERT_EQ(checked->warnings.size(), 1u);
    EXPECT_EQ(checked->warnings[0].directive, Directive::client_id);
    EXPECT_NE(checked->warnings[0].text.find("spotauth_client_id \"CHANGE-ME-client-id\" is not a Spotify client id"),
              std::string::npos);
    raw.client_id = "0123456789ABCDEF0123456789abcdef";
    EXPECT_TRUE(warnings_of(raw).empty());
    raw.client_id = "0123456789abcdef0123456789abcde";  // 31
    EXPECT_EQ(warnings_of(raw).size(), 1u);
    // Other providers have other formats.
    raw.authorize_url = "https://github.com/login/oauth/authorize";
    raw.client_id = "Iv1.8a61f9b3a7aba766";
    EXPECT_TRUE(warnings_of(raw).empty());
}

TEST(CheckSettings, RedirectPathMustBeACallbackLocation) {
    RawSettings raw = valid();
    raw.callback_locations = std::vector<CallbackLocation>{{"/auth/callback", true}};
    EXPECT_TRUE(warnings_of(raw).empty());
    raw.redirect_uri = "https://www.example.org/auth/callback?x=1";
    EXPECT_TRUE(warnings_of(raw).empty());
    raw.redirect_uri = "https://www.example.org/callback";
    auto warnings = warnings_of(raw);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("has the path \"/callback\", which no spotauth_callback location serves "
                               "(they are at \"/auth/callback\")"),
              std::string::npos);
    raw.redirect_uri = "https://www.example.org";
    EXPECT_NE(warnings_of(raw)[0].find("has the path \"/\""), std::string::npos);
    raw.redirect_uri = "https://www.example.org/auth/callback/more";
    EXPECT_EQ(warnings_of(raw).size(), 1u);  // exact match only
    raw.callback_locations = std::vector<CallbackLocation>{{"/auth/", false}};
    EXPECT_TRUE(warnings_of(raw).empty());  // a prefix location serves it
    raw.callback_locations = std::vector<CallbackLocation>{};
    EXPECT_NE(warnings_of(raw)[0].find("(there is none)"), std::string::npos);
    raw.callback_locations.reset();  // unknown: not checked
    EXPECT_TRUE(warnings_of(raw).empty());
}

// Spotify answers other redirect URIs with "INVALID_CLIENT: Insecure
// redirect URI": "localhost" never, http:// only on a loopback IP literal
// (whatever spotauth_cookie_secure says).
TEST(CheckSettings, SpotifysRedirectUriRules) {
    RawSettings raw = valid();
    raw.secure_cookies = false;
    for (const char* uri : {"http://localhost:8080/auth/callback", "https://localhost/auth/callback",
                            "http://LocalHost:8080/auth/callback", "http://app.localhost/auth/callback"}) {
        raw.redirect_uri = uri;
        const SettingsMessage failure = failure_of(raw);
        EXPECT_EQ(failure.directive, Directive::redirect_uri) << uri;
        EXPECT_NE(failure.text.find("names \"localhost\" (Spotify refuses it: \"INVALID_CLIENT: Insecure redirect "
                                    "URI\"): use the loopback address, \"http://127.0.0.1:PORT/...\" or "
                                    "\"http://[::1]:PORT/...\""),
                  std::string::npos)
            << failure.text;
    }
    for (const char* uri :
         {"http://www.example.org/auth/callback", "http://10.0.0.1:8080/auth/callback", "http://[::2]/auth/callback"}) {
        raw.redirect_uri = uri;
        const std::string error = error_of(raw);
        EXPECT_NE(error.find("is http:// on a host that is not a loopback address (Spotify refuses it"),
                  std::string::npos)
            << uri << ": " << error;
        EXPECT_NE(error.find("use https://"), std::string::npos);
    }
    for (const char* uri : {"http://127.0.0.1:8080/auth/callback", "http://[::1]:8080/auth/callback",
                            "http://127.0.0.2/auth/callback", "https://www.example.org/auth/callback"}) {
        raw.redirect_uri = uri;
        EXPECT_TRUE(check_settings(raw)) << uri;
    }
    // Another provider's rules are its own.
    raw.authorize_url = "http://127.0.0.1:9000/authorize";
    raw.redirect_uri = "http://localhost:8080/auth/callback";
    EXPECT_TRUE(check_settings(raw));
}

TEST(CheckSettings, RedirectHostMustBeAServerNameOfTheCallbacksServer) {
    RawSettings raw = valid();  // https://www.example.org/auth/callback
    raw.callback_locations = std::vector<CallbackLocation>{{"/auth/callback", true, {"www.example.org"}}};
    EXPECT_TRUE(warnings_of(raw).empty());
    raw.callback_locations = std::vector<CallbackLocation>{{"/auth/callback", true, {"example.org", "app.example"}}};
    const auto warnings = warnings_of(raw);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("has the host \"www.example.org\", which no server_name of the server holding the "
                               "spotauth_callback location \"/auth/callback\" matches (server_name example.org "
                               "app.example)"),
              std::string::npos)
        << warnings[0];
    EXPECT_NE(warnings[0].find("Add \"server_name www.example.org;\" to that server"), std::string::npos);
    // Another server's callback at the same path, under the right name.
    raw.callback_locations->push_back({"/auth/callback", true, {"*.example.org"}});
    EXPECT_TRUE(warnings_of(raw).empty());
    // A server without a server_name of its own cannot be judged.
    raw.callback_locations = std::vector<CallbackLocation>{{"/auth/callback", true, {""}}};
    EXPECT_TRUE(warnings_of(raw).empty());
}

TEST(CheckSettings, SecretFilesOthersCanReadWarn) {
    RawSettings raw = valid();
    raw.client_secret->mode = 0600;
    raw.key_files[0].mode = 0400;
    EXPECT_TRUE(warnings_of(raw).empty());
    raw.client_secret->mode = 0640;
    raw.key_files.push_back(ConfigFile{"/etc/nginx/old.key", std::string(kKey), 0604});
    const auto checked = check_settings(raw);
    ASSERT_TRUE(checked);
    ASSERT_EQ(checked->warnings.size(), 2u);
    EXPECT_EQ(checked->warnings[0].directive, Directive::client_secret_file);
    EXPECT_EQ(checked->warnings[0].text,
              "spotauth: spotauth_client_secret_file \"/etc/nginx/secret\" is accessible to group or others "
              "(mode 0640); it holds a secret: \"chmod 600 /etc/nginx/secret\"");
    EXPECT_EQ(checked->warnings[1].directive, Directive::key_file);
    EXPECT_EQ(checked->warnings[1].index, 1u);
    EXPECT_NE(checked->warnings[1].text.find("(mode 0604)"), std::string::npos);
}
