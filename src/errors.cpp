// The error table (include/spotauth/errors.hpp): every failure's status,
// code and wording.
#include "spotauth/errors.hpp"

namespace spotauth {

ErrorReply error_reply(Failure failure, std::string_view provider) {
    const std::string name(provider);
    switch (failure) {
        case Failure::not_signed_in:
            return {401, "not_authenticated", "Sign in with " + name + " first.", true, false, true};
        case Failure::session_invalid:
            return {401, "not_authenticated", "Your session is not valid; sign in again.", true, true, true};
        case Failure::session_expired:
            return {401, "session_expired", "Your session has ended; sign in again.", true, true, true};
        case Failure::session_revoked:
            return {401, "session_revoked", "This session was signed out; sign in again.", true, true, true};
        case Failure::refresh_refused:
            return {401, "refresh_failed", name + " no longer accepts this session; sign in again.", true, true,
                    true};
        case Failure::token_rejected:
            return {401, "token_rejected", name + " refused the access token.", true, false, true};
        case Failure::provider_unavailable:
            return {503, "token_endpoint_unavailable", name + "'s sign-in service did not answer; try again.",
                    false, false, false};
        case Failure::provider_misconfigured:
            return {502, "token_endpoint_misconfigured", "Sign-in is misconfigured on this site; try again later.",
                    false, false, false};
        case Failure::state_mismatch:
            return {400, "invalid_state",
                    "This sign-in link is stale or was opened in another browser; please start again.", true, false,
                    false};
        case Failure::state_used:
            return {400, "invalid_state", "This sign-in link was already used; please start again.", true, false,
                    false};
        case Failure::code_missing:
            return {400, "invalid_request", "The sign-in response has no authorization code.", true, false, false};
        case Failure::consent_declined:
            return {403, "access_denied", "You declined to connect your " + name + " account.", true, false, false};
        case Failure::provider_refused_login:
            return {502, "provider_error", name + " refused the sign-in request.", true, false, false};
        case Failure::code_exchange_failed:
            return {502, "token_exchange_failed", name + " did not accept the sign-in; try again.", true, false,
                    false};
        case Failure::profile_unavailable:
            return {502, "profile_unavailable", "Could not read your " + name + " profile; try again.", true, false,
                    false};
        case Failure::session_too_large:
            return {502, "session_too_large",
                    name + "'s answer is too large to keep in a browser cookie; sign-in cannot finish.", false,
                    false, false};
        case Failure::cross_site:
            return {403, "cross_site_request", "This request must come from this site.", false, false, false};
        case Failure::exchanges_limited:
            return {429, "too_many_requests", "Too many sign-in attempts; wait a moment and sign in again.", true,
                    false, false};
        case Failure::forbidden:
            // The login link: another account, or a subscription changed since login.
            return {403, "forbidden", "Your " + name + " account does not have access to this page.", true, false,
                    false};
        case Failure::method_not_allowed:
            return {405, "method_not_allowed", "This address does not take this kind of request.", false, false,
                    false};
    }
    return {500, "internal_error", "Something went wrong.", false, false, false};
}

Failure refresh_failure(TokenOutcome outcome) {
    switch (outcome) {
        case TokenOutcome::permanent: return Failure::refresh_refused;
        case TokenOutcome::misconfigured: return Failure::provider_misconfigured;
        case TokenOutcome::ok:
        case TokenOutcome::transient: break;
    }
    return Failure::provider_unavailable;
}

Failure provider_refusal(std::string_view provider_error) {
    return provider_error == "access_denied" ? Failure::consent_declined : Failure::provider_refused_login;
}

}  // namespace spotauth
