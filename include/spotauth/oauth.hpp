// The OAuth 2.0 authorization-code client (RFC 6749 + PKCE, RFC 7636) as
// pure functions: what to send to the provider and what its answers mean.
#pragma once

#include "spotauth/expected.hpp"
#include "spotauth/http_client.hpp"
#include "spotauth/session.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth {

// Where the profile answer holds the user's id and display name: field
// names, dotted for nested objects ("id", "sub", "data.user.id"). The
// defaults are Spotify's /v1/me.
struct ProfileClaims {
    std::string id = "id";
    std::string name = "display_name";
};

// The arguments of `spotauth_profile_claims` ("id=sub", "name=login"; either
// or both) over `base` (Spotify's fields unless given); the error completes the sentence
// `"spotauth_profile_claims" directive ...`.
Expected<ProfileClaims> parse_profile_claims(const std::vector<std::string>& args, const ProfileClaims& base = {});

// Where the client id and secret go in calls to the token endpoint (RFC
// 6749 section 2.3.1; OpenID's client_secret_basic and client_secret_post).
enum class ClientAuth {
    basic,  // an Authorization: Basic header (Spotify)
    post,   // client_id and client_secret in the form body, no header (Kakao, Naver)
};

// The name messages give the provider when none is configured.
inline constexpr std::string_view kDefaultProviderName = "Spotify";

struct ClientConfig {
    std::string client_id;
    std::string client_secret;
    std::string redirect_uri;
    std::string scopes;  // space separated
    std::string authorize_url;
    std::string token_url;
    std::string api_url;      // base of the Web API, where /v1/me lives
    std::string profile_url;  // who the user is, fetched with the access token at login
    ProfileClaims profile_claims;
    ClientAuth client_auth = ClientAuth::basic;
    // More authorize parameters, form-encoded ("access_type=offline&prompt=consent"
    // for Google's refresh tokens); empty for most providers.
    std::string authorize_params{};
    // The provider as people know it, for messages and pages ("Kakao").
    std::string provider_name{kDefaultProviderName};
};

// A fresh random value of 256 bits, base64url: used for `state` and as the
// PKCE code verifier (43 characters, within RFC 7636's 43..128).
std::optional<std::string> random_token();

// BASE64URL(SHA256(verifier)): the S256 code challenge.
std::string pkce_challenge(std::string_view code_verifier);

// The key under which a pending login's state is remembered server-side
// (so each state is used at one callback only): a hash, never the state.
std::string login_state_key(std::string_view state);

// Whether the provider may sign the account it knows in again (keep), or
// must ask which account to use (choose: Spotify's show_dialog=true).
enum class AccountChoice { keep, choose };

// The value of the login's `switch` parameter (kSwitchAccountParameter):
// "1" chooses; anything else, or nothing, keeps.
AccountChoice account_choice(std::optional<std::string_view> switch_value);

std::string authorize_url(const ClientConfig& client, std::string_view state, std::string_view code_challenge,
                          AccountChoice choice = AccountChoice::keep);

// HTTP Basic client authentication (RFC 6749 section 2.3.1: both parts are
// form-encoded before base64), as a full header line.
std::string basic_auth_header(const ClientConfig& client);

// The client's credentials as form fields for a token-endpoint body:
// "client_id=...&client_secret=..." with ClientAuth::post, empty with basic.
std::string body_credentials(const ClientConfig& client);

std::string code_exchange_body(const ClientConfig& client, std::string_view code, std::string_view code_verifier);

// `body_credentials` (of body_credentials()) follow the grant when not empty.
std::string refresh_body(std::string_view refresh_token, std::string_view body_credentials = {});

// Spotify's profile endpoint under an API base: `api_url` + "/v1/me".
std::string default_profile_url(std::string_view api_url);

// Bounds of every call to the provider.
struct CallLimits {
    long connect_timeout_ms = 5000;
    long timeout_ms = 10000;
    std::string ca_file;  // empty: the system's trust store
};

// A POST to the token endpoint (code exchange or refresh), with HTTP Basic
// client authentication unless the client uses ClientAuth::post (then the
// body already carries the credentials); answers are read up to 64 KB.
HttpRequest token_request(const ClientConfig& client, const CallLimits& limits, std::string form_body);

// The profile (client.profile_url) with the user's access token; read up to 256 KB.
HttpRequest profile_request(const ClientConfig& client, const CallLimits& limits, std::string_view access_token);

// What a token-endpoint answer means for the session.
enum class TokenOutcome {
    ok,
    permanent,      // invalid_grant: the grant is dead, the session must end
    transient,      // network, 5xx, 429, garbage: try again later, keep the session
    misconfigured,  // invalid_client and friends: an operator must act
};

struct TokenResponse {
    TokenOutcome outcome = TokenOutcome::transient;
    std::string access_token;
    std::optional<std::string> refresh_token;  // absent when not rotated
    std::int64_t expires_in = 0;
    // False when the answer has neither expires_in nor refresh_token (GitHub's
    // OAuth apps): the token is good until it is refused, and there is
    // nothing to refresh it with.
    bool expires = true;
    std::string error;        // provider error code or our own short reason
    std::string description;  // safe to log: never contains a token
};

// `status` is the HTTP status; 0 when the transfer itself failed. An answer
// with an `error` member is an error whatever the status (Naver and GitHub
// send errors with 200). `expires_in` may be a JSON integer or a string of
// ASCII digits (Naver's); `token_type` is compared without case; `scope`
// is not read.
TokenResponse parse_token_response(long status, std::string_view body);

struct Profile {
    std::string id;
    std::string display_name;
    // Empty unless granted user-read-private (initialized, so {id, name} stays valid).
    std::string product{};
    std::string country{};
};

// The user of a profile answer: the id at `claims.id` (a string, or an
// integer turned into its decimal text) and the display name at
// `claims.name` (the id when absent or not a string), both cleaned.
// nullopt when the answer is not a JSON object or has no usable id.
std::optional<Profile> parse_profile(long status, std::string_view body, const ProfileClaims& claims = {});

// A session for a user who just logged in. A token that does not expire
// (TokenResponse::expires false) is kept for the session's lifetime.
Session new_session(const Profile& profile, const TokenResponse& tokens, UnixTime now, UnixTime lifetime);

}  // namespace spotauth
