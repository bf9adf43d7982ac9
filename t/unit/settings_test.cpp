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
    return checked ? "" : checked.error();
}

}  // namespace

TEST(CheckSettings, ValidSettingsMakeAClient) {
    const auto checked = check_settings(valid());
    ASSERT_TRUE(checked);
    EXPECT_EQ(checked->client.client_secret, "s3cret");  // trailing newline dropped
    EXPECT_EQ(checked->keys.size(), 1u);
    EXPECT_TRUE(checked->warnings.empty());
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
    EXPECT_NE(checked->warnings[0].find("browsers only keep Secure cookies"), std::string::npos);
    raw.secure_cookies = false;
    checked = check_settings(raw);
    EXPECT_TRUE(checked->warnings.empty());
}
