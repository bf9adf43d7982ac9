// The error table (include/spotauth/errors.hpp): every failure's status,
// code and wording.
#include "spotauth/errors.hpp"

#include <utility>

namespace spotauth {
namespace {

// What an answer does besides its status and body, named at each row.
struct Handling {
    bool offers_login;
    bool ends_session;
    bool bearer_challenge;
};
// A 401 for an API: sign in (the login URL) and a Bearer challenge.
constexpr Handling kSignInChallenge{/*offers_login=*/true, /*ends_session=*/false, /*bearer_challenge=*/true};
// The same, and the session cookie is cleared: that session is over.
constexpr Handling kSessionOver{/*offers_login=*/true, /*ends_session=*/true, /*bearer_challenge=*/true};
// The login URL only: signing in (again) is the way on.
constexpr Handling kLoginLink{/*offers_login=*/true, /*ends_session=*/false, /*bearer_challenge=*/false};
// Nothing besides the status and body.
constexpr Handling kPlain{/*offers_login=*/false, /*ends_session=*/false, /*bearer_challenge=*/false};

ErrorReply row(int status, std::string_view code, std::string description, Handling h) {
    return {status, code, std::move(description), h.offers_login, h.ends_session, h.bearer_challenge};
}

}  // namespace

ErrorReply error_reply(Failure failure, std::string_view provider) {
    const std::string name(provider);
    switch (failure) {
        case Failure::not_signed_in:
            return row(401, "not_authenticated", "Sign in with " + name + " first.", kSignInChallenge);
        case Failure::session_invalid:
            return row(401, "not_authenticated", "Your session is not valid; sign in again.", kSessionOver);
        case Failure::session_expired:
            return row(401, "session_expired", "Your session has ended; sign in again.", kSessionOver);
        case Failure::session_revoked:
            return row(401, "session_revoked", "This session was signed out; sign in again.", kSessionOver);
        case Failure::refresh_refused:
            return row(401, "refresh_failed", name + " no longer accepts this session; sign in again.", kSessionOver);
        case Failure::token_rejected:
            return row(401, "token_rejected", name + " refused the access token.", kSignInChallenge);
        case Failure::provider_unavailable:
            return row(503, "token_endpoint_unavailable", name + "'s sign-in service did not answer; try again.",
                       kPlain);
        case Failure::provider_misconfigured:
            return row(502, "token_endpoint_misconfigured", "Sign-in is misconfigured on this site; try again later.",
                       kPlain);
        case Failure::state_mismatch:
            return row(400, "invalid_state",
                       "This sign-in link is stale or was opened in another browser; please start again.", kLoginLink);
        case Failure::state_used:
            return row(400, "invalid_state", "This sign-in link was already used; please start again.", kLoginLink);
        case Failure::code_missing:
            return row(400, "invalid_request", "The sign-in response has no authorization code.", kLoginLink);
        case Failure::consent_declined:
            return row(403, "access_denied", "You declined to connect your " + name + " account.", kLoginLink);
        case Failure::provider_refused_login:
            return row(502, "provider_error", name + " refused the sign-in request.", kLoginLink);
        case Failure::code_exchange_failed:
            return row(502, "token_exchange_failed", name + " did not accept the sign-in; try again.", kLoginLink);
        case Failure::profile_unavailable:
            return row(502, "profile_unavailable", "Could not read your " + name + " profile; try again.", kLoginLink);
        case Failure::session_too_large:
            return row(502, "session_too_large",
                       name + "'s answer is too large to keep in a browser cookie; sign-in cannot finish.", kPlain);
        case Failure::cross_site:
            return row(403, "cross_site_request", "This request must come from this site.", kPlain);
        case Failure::exchanges_limited:
            return row(429, "too_many_requests", "Too many sign-in attempts; wait a moment and sign in again.",
                       kLoginLink);
        case Failure::forbidden:
            // The login link: another account, or a subscription changed since login.
            return row(403, "forbidden", "Your " + name + " account does not have access to this page.", kLoginLink);
        case Failure::method_not_allowed:
            return row(405, "method_not_allowed", "This address does not take this kind of request.", kPlain);
    }
    return row(500, "internal_error", "Something went wrong.", kPlain);
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
