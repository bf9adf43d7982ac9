// What the site's own pages call: /auth/session (who is signed in),
// /auth/token (the access token for the Web Playback SDK) and /auth/logout.
#include "ngx_spotauth_endpoints.hpp"

#include "ngx_spotauth_reply.hpp"
#include "ngx_spotauth_request.hpp"
#include "ngx_spotauth_worker.hpp"

#include "spotauth/access.hpp"
#include "spotauth/errors.hpp"
#include "spotauth/page.hpp"
#include "spotauth/responses.hpp"
#include "spotauth/url.hpp"

namespace spotauth_ngx {
namespace {

using spotauth::Failure;

// The request's session, read from its cookie; a cookie that is present
// but unusable is cleared in the response. Null only when out of memory.
RequestState* signed_in_state(ngx_http_request_t* r, const Settings& s) {
    RequestState* state = request_state(r);
    if (state == nullptr) {
        return nullptr;
    }
    const spotauth::CookieStatus status = state->load(s);
    if (status != spotauth::CookieStatus::valid && status != spotauth::CookieStatus::absent &&
        !clear_cookie(r, s, s.cookies.session)) {
        return nullptr;
    }
    return state;
}

// Calls `respond` once the session's access token is fresh, or its refresh
// has failed (which `respond` reads from the state).
ngx_int_t respond_when_fresh(ngx_http_request_t* r, const Settings& s, RequestState& state, Responder respond) {
    if (!spotauth::needs_refresh(*state.session(), now(), main_conf_of(r)->refresh_leeway)) {
        return respond(r, s, state);
    }
    if (state.begin_refresh(s, "", respond) == RequestState::Wait::done) {
        return respond(r, s, state);
    }
    r->main->count++;
    return NGX_DONE;
}

// The failure of this request's refresh, if it made one and it failed.
std::optional<Failure> refresh_failure(const Settings& s, RequestState& state, bool& out_of_memory) {
    out_of_memory = false;
    if (!state.result()) {
        return std::nullopt;
    }
    out_of_memory = !state.absorb_refresh(s);
    const spotauth::TokenOutcome outcome = state.result()->outcome;
    if (outcome == spotauth::TokenOutcome::ok) {
        return std::nullopt;
    }
    return spotauth::refresh_failure(outcome);
}

// What the location's rules refuse a signed-in user, decided as in an API
// location: no token for a user who could not use one there.
std::optional<Failure> refusal(ngx_http_request_t* r, const spotauth::Session& session) {
    spotauth::AccessFacts facts;
    facts.cookie = spotauth::CookieStatus::valid;
    facts.authorization = spotauth::authorize(access_rules_of(r), session);
    const spotauth::AccessDecision decision = spotauth::decide_access(facts);
    if (decision.action != spotauth::AccessAction::deny) {
        return std::nullopt;
    }
    return decision.failure;
}

ngx_int_t respond_session(ngx_http_request_t* r, const Settings& s, RequestState& state) {
    bool out_of_memory = false;
    const auto failure = refresh_failure(s, state, out_of_memory);
    if (out_of_memory) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const std::string_view error = failure ? spotauth::error_reply(*failure).code : std::string_view();
    const bool ended = failure && spotauth::error_reply(*failure).ends_session;
    if (ended && !clear_cookie(r, s, s.cookies.session)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_json(r, NGX_HTTP_OK, spotauth::session_json(ended ? nullptr : state.session(), error));
}

ngx_int_t respond_token(ngx_http_request_t* r, const Settings& s, RequestState& state) {
    bool out_of_memory = false;
    const auto failure = refresh_failure(s, state, out_of_memory);
    if (out_of_memory) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (failure) {
        return send_token_error(r, s, *failure);
    }
    return send_json(r, NGX_HTTP_OK, spotauth::token_json(*state.session(), now()));
}

}  // namespace

ngx_int_t session_endpoint(ngx_http_request_t* r, const Settings& s) {
    RequestState* state = signed_in_state(r, s);
    if (state == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (state->session() == nullptr) {
        return send_json(r, NGX_HTTP_OK, spotauth::session_json(nullptr, ""));
    }
    return respond_when_fresh(r, s, *state, &respond_session);
}

ngx_int_t token_endpoint(ngx_http_request_t* r, const Settings& s) {
    if (!is_same_origin(r)) {
        return send_token_error(r, s, Failure::cross_site);
    }
    RequestState* state = signed_in_state(r, s);
    if (state == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (state->session() == nullptr) {
        return send_json(r, NGX_HTTP_UNAUTHORIZED, spotauth::token_error_json("not_authenticated"));
    }
    if (const auto refused = refusal(r, *state->session())) {
        return send_token_error(r, s, *refused);
    }
    return respond_when_fresh(r, s, *state, &respond_token);
}

ngx_int_t logout_endpoint(ngx_http_request_t* r, const Settings& s) {
    const std::string return_to = spotauth::safe_return_to(query_arg(r, "return_to").value_or(""));
    if (!is_same_origin(r)) {
        return send_error(r, s, Failure::cross_site, return_to);
    }
    // Ended on the server too: a copy of the cookie stops working everywhere.
    RequestState* state = request_state(r);
    if (state == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (state->load(s) == spotauth::CookieStatus::valid) {
        worker()->revoke(*state->session());
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: user \"%s\" logged out",
                      state->session()->user_id.c_str());
    }
    if (!clear_cookie(r, s, s.cookies.session)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    for (const std::string& login : login_cookie_names(r, s)) {
        if (!clear_cookie(r, s, login)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    // A form goes back to the site, which can say why (docs/frontend.md).
    if (is_navigation(r)) {
        return send_redirect(r, spotauth::with_notice(return_to, spotauth::Notice::logged_out));
    }
    return send_body(r, NGX_HTTP_NO_CONTENT, "text/plain", "");
}

}  // namespace spotauth_ngx
