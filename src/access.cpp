#include "spotauth/access.hpp"

namespace spotauth {
namespace {

Failure cookie_failure(CookieStatus cookie) {
    switch (cookie) {
        case CookieStatus::expired: return Failure::session_expired;
        case CookieStatus::revoked: return Failure::session_revoked;
        case CookieStatus::invalid: return Failure::session_invalid;
        case CookieStatus::absent:
        case CookieStatus::valid: break;
    }
    return Failure::not_signed_in;
}

bool refused(Authorization authorization) {
    return authorization == Authorization::user_not_listed || authorization == Authorization::product_not_allowed;
}

}  // namespace

AccessDecision decide_access(const AccessFacts& f) {
    if (f.cookie == CookieStatus::valid && refused(f.authorization)) {
        return {AccessAction::deny, Failure::forbidden};
    }
    // A session that cannot tell its product counts as none here: a new
    // login records it (the cookie is kept; the login replaces it).
    const bool signed_in = f.cookie == CookieStatus::valid && f.authorization == Authorization::allowed;
    switch (f.mode) {
        case ProtectMode::redirect:
            // A page needs no token, so no refresh either. A session that
            // ended (its lifetime, or a logout elsewhere) is said so on a
            // page with a way back in, not hidden behind a new login.
            if (signed_in) {
                return {AccessAction::serve_page};
            }
            if (f.cookie == CookieStatus::expired || f.cookie == CookieStatus::revoked) {
                return {AccessAction::deny, cookie_failure(f.cookie)};
            }
            return {AccessAction::login_redirect, Failure::not_signed_in, f.cookie == CookieStatus::invalid};
        case ProtectMode::retry:
            if (!signed_in) {
                return {AccessAction::deny, Failure::not_signed_in};
            }
            // One replay only; an unbuffered body cannot be sent twice.
            if (f.replayed || !f.body_replayable) {
                return {AccessAction::deny, Failure::token_rejected};
            }
            return {AccessAction::force_refresh};
        case ProtectMode::on: break;
    }
    if (!signed_in) {
        return {AccessAction::deny, cookie_failure(f.cookie)};
    }
    return {f.needs_refresh ? AccessAction::refresh : AccessAction::proxy};
}

const char* action_name(AccessAction action) {
    switch (action) {
        case AccessAction::proxy: return "proxy";
        case AccessAction::refresh: return "refresh";
        case AccessAction::force_refresh: return "force_refresh";
        case AccessAction::serve_page: return "serve_page";
        case AccessAction::login_redirect: return "login_redirect";
        case AccessAction::deny: return "deny";
    }
    return "unknown";
}

}  // namespace spotauth
