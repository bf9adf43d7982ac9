// The providers `spotauth_provider` knows: for each, the endpoints, the
// profile fields, the default scopes and the client authentication its
// documentation gives, as data. nginx.conf picks one by name; each value
// can still be overridden by its own directive (docs/providers.md).
#pragma once

#include "spotauth/oauth.hpp"
#include "spotauth/settings.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

struct ProviderPreset {
    std::string_view name;          // as written in nginx.conf: "kakao"
    std::string_view display_name;  // as messages name it: "Kakao"
    std::string_view authorize_url;
    std::string_view token_url;
    std::string_view api_url;
    std::string_view profile_url;  // empty: default_profile_url(api_url)
    std::string_view id_claim;
    std::string_view name_claim;
    std::string_view scopes;  // space separated; empty: none sent
    ClientAuth client_auth;
    std::string_view authorize_params;  // form-encoded, appended to the authorize URL
};

// The preset called `name` (exactly, lower case); null when there is none.
const ProviderPreset* find_provider(std::string_view name);

// Spotify's: what the module does without spotauth_provider.
const ProviderPreset& default_provider();

// The known names, for a message: "spotify, google, github, kakao, naver".
std::string provider_names();

// The value of `spotauth_client_auth`; nullopt for anything but "basic" or "post".
std::optional<ClientAuth> parse_client_auth(std::string_view value);

// `raw` with every value it leaves empty (URLs, scopes, claims, client
// authentication) taken from `preset`.
RawSettings with_provider_defaults(RawSettings raw, const ProviderPreset& preset);

}  // namespace spotauth
