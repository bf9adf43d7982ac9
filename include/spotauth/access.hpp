// What a protected location does with a request, decided from what the
// glue knows about it: the location's mode, what its session cookie held,
// whether the location's rules allow its user, whether the access token
// needs a refresh and whether this request is already the replay after an
// upstream 401.
#pragma once

#include "spotauth/authorization.hpp"
#include "spotauth/errors.hpp"
#include "spotauth/session.hpp"

namespace spotauth {

enum class ProtectMode { on, redirect, retry };

enum class AccessAction {
    proxy,           // inject the Bearer token and go on
    refresh,         // refresh first (proactively), then proxy or answer the failure
    force_refresh,   // replay: refresh refusing the token just refused, then proxy once more
    serve_page,      // a page for a signed-in visitor: no token needed
    login_redirect,  // a page without a session: 302 to the login, back here
    deny,            // answer `failure`
};

struct AccessDecision {
    AccessAction action;
    Failure failure = Failure::not_signed_in;  // for deny
    bool clear_cookie = false;                 // for login_redirect: the cookie was unusable
};

struct AccessFacts {
    ProtectMode mode = ProtectMode::on;
    CookieStatus cookie = CookieStatus::absent;
    bool needs_refresh = false;
    bool replayed = false;        // retry: this request already had its one refresh
    bool body_replayable = true;  // retry: the request body can be sent again
    // A signed-in user refused by the rules is denied `forbidden` (no
    // refresh is spent on them); one whose product is unknown while one is
    // required is sent to sign in again, which reads it.
    Authorization authorization = Authorization::allowed;
};

AccessDecision decide_access(const AccessFacts& facts);

// For logs: "proxy", "refresh", "force_refresh", "serve_page", "login_redirect", "deny".
const char* action_name(AccessAction action);

}  // namespace spotauth
