// The table behind `spotauth_provider`. Each row follows its provider's
// published documentation; docs/providers.md says where and which facts
// could not be checked there.
#include "spotauth/providers.hpp"

namespace spotauth {
namespace {

constexpr ProviderPreset kProviders[] = {
    {"spotify", "Spotify", "https://accounts.spotify.com/authorize", "https://accounts.spotify.com/api/token",
     "https://api.spotify.com", "", "id", "display_name", "user-read-email", ClientAuth::basic, ""},
    // OpenID Connect's userinfo; a refresh token only with offline access,
    // and again after the first consent only with prompt=consent.
    {"google", "Google", "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
     "https://openidconnect.googleapis.com", "https://openidconnect.googleapis.com/v1/userinfo", "sub", "name",
     "openid profile", ClientAuth::post, "access_type=offline&prompt=consent"},
    // A numeric id; `name` may be null, `login` never is. OAuth apps' tokens
    // do not expire (no expires_in, no refresh_token).
    {"github", "GitHub", "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token",
     "https://api.github.com", "https://api.github.com/user", "id", "login", "read:user", ClientAuth::post, ""},
    // A numeric id; the nickname needs the profile_nickname consent item.
    {"kakao", "Kakao", "https://kauth.kakao.com/oauth/authorize", "https://kauth.kakao.com/oauth/token",
     "https://kapi.kakao.com", "https://kapi.kakao.com/v2/user/me", "id", "kakao_account.profile.nickname",
     "profile_nickname", ClientAuth::post, ""},
    // No scope parameter: what the app may read is chosen in Naver's console.
    {"naver", "Naver", "https://nid.naver.com/oauth2.0/authorize", "https://nid.naver.com/oauth2.0/token",
     "https://openapi.naver.com", "https://openapi.naver.com/v1/nid/me", "response.id", "response.nickname", "",
     ClientAuth::post, ""},
};

}  // namespace

const ProviderPreset* find_provider(std::string_view name) {
    for (const ProviderPreset& preset : kProviders) {
        if (preset.name == name) {
            return &preset;
        }
    }
    return nullptr;
}

const ProviderPreset& default_provider() { return kProviders[0]; }

std::string provider_names() {
    std::string names;
    for (const ProviderPreset& preset : kProviders) {
        names += (names.empty() ? "" : ", ") + std::string(preset.name);
    }
    return names;
}

namespace {

void fill(std::string& value, std::string_view preset_value) {
    if (value.empty()) {
        value = preset_value;
    }
}

}  // namespace

RawSettings with_provider_defaults(RawSettings raw, const ProviderPreset& preset) {
    fill(raw.scopes, preset.scopes);
    fill(raw.authorize_url, preset.authorize_url);
    fill(raw.token_url, preset.token_url);
    fill(raw.api_url, preset.api_url);
    fill(raw.profile_url, preset.profile_url);
    fill(raw.profile_claims.id, preset.id_claim);
    fill(raw.profile_claims.name, preset.name_claim);
    raw.client_auth = raw.client_auth.value_or(preset.client_auth);
    return raw;
}

std::optional<ClientAuth> parse_client_auth(std::string_view value) {
    if (value == "basic") {
        return ClientAuth::basic;
    }
    if (value == "post") {
        return ClientAuth::post;
    }
    return std::nullopt;
}

}  // namespace spotauth
