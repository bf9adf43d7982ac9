// Every failure the module answers, in one table: HTTP status, the stable
// machine-readable code (the contract documented in README.md, "Error
// codes") and a description for people. The glue only sends what this
// table says.
#pragma once

#include "spotauth/oauth.hpp"

#include <string>
#include <string_view>

namespace spotauth {

enum class Failure {
    not_signed_in,           // no session cookie
    session_invalid,         // tampered, truncated, unknown key, not ours
    session_expired,         // past spotauth_session_lifetime
    session_revoked,         // logged out (on any machine of the fleet)
    refresh_refused,         // invalid_grant: the session is over
    token_rejected,          // the API refused the token again (replay)
    provider_unavailable,    // transient token-endpoint failure
    provider_misconfigured,  // the provider refuses our client credentials
    state_mismatch,          // callback: no login cookie or another state
    state_used,              // callback: the login state was used already
    code_missing,            // callback: no code
    consent_declined,        // callback: ?error=access_denied
    provider_refused_login,  // callback: any other ?error=
    code_exchange_failed,    // callback: the token endpoint said no
    profile_unavailable,     // callback: the profile could not be read
    session_too_large,       // callback: the session cookie would be over 4096 bytes
    cross_site,              // token, logout: a cross-site caller
    exchanges_limited,       // callback: spotauth_exchange_limit reached
    forbidden,               // signed in, but spotauth_allow_users / spotauth_require_product refuse
    method_not_allowed,      // an endpoint asked with a method it does not take
};

struct ErrorReply {
    int status;
    std::string_view code;
    std::string description;  // names the provider where it is about it
    bool offers_login;        // answer with the login URL (login_url, a link)
    bool ends_session;        // clear the session cookie
    bool bearer_challenge;    // WWW-Authenticate: Bearer realm="spotauth"
};

// `provider` is the provider's name for people ("Kakao did not accept the
// sign-in"); ClientConfig::provider_name.
ErrorReply error_reply(Failure failure, std::string_view provider = kDefaultProviderName);

// How a failed refresh is answered.
Failure refresh_failure(TokenOutcome outcome);

// How a callback carrying ?error= from the provider is answered.
Failure provider_refusal(std::string_view provider_error);

}  // namespace spotauth
