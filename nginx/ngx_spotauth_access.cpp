// Protected locations (see ngx_spotauth_access.hpp).
#include "ngx_spotauth_access.hpp"

#include "ngx_spotauth_reply.hpp"
#include "ngx_spotauth_request.hpp"
#include "ngx_spotauth_worker.hpp"

#include "spotauth/access.hpp"
#include "spotauth/cookie.hpp"
#include "spotauth/errors.hpp"
#include "spotauth/url.hpp"

namespace spotauth_ngx {
namespace {

bool set_authorization(ngx_http_request_t* r, std::string_view access_token) {
    ngx_table_elt_t* h = r->headers_in.authorization;
    if (h == nullptr) {
        h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_in.headers));
        if (h == nullptr) {
            return false;
        }
        h->hash = ngx_hash_key(const_cast<u_char*>(reinterpret_cast<const u_char*>("authorization")),
                               sizeof("authorization") - 1);
        unlink_header(h);
        ngx_str_set(&h->key, "Authorization");
        h->lowcase_key = const_cast<u_char*>(reinterpret_cast<const u_char*>("authorization"));
        r->headers_in.authorization = h;
    }
    // "Bearer " and the token, written once into the request's pool.
    constexpr std::string_view kBearer = "Bearer ";
    auto* value = static_cast<u_char*>(ngx_pnalloc(r->pool, kBearer.size() + access_token.size()));
    if (value == nullptr) {
        return false;
    }
    ngx_memcpy(ngx_cpymem(value, kBearer.data(), kBearer.size()), access_token.data(), access_token.size());
    h->value = {kBearer.size() + access_token.size(), value};
    // Cached Basic credentials, if any module parsed them, are now stale.
    r->headers_in.user.len = 0;
    r->headers_in.passwd.len = 0;
    return true;
}

// Upstream sees every cookie but the module's own: the session cookie and
// every login cookie. (nginx cannot drop a request header line, so a
// Cookie header that held only ours goes empty.)
bool strip_module_cookies(ngx_http_request_t* r, const Settings& s) {
    bool ok = true;
    for_each_cookie_line(r, [&](ngx_table_elt_t* line) {
        const std::string_view value = to_view(line->value);
        if (!spotauth::find_cookie(value, s.cookies.session) && spotauth::login_cookies(value, s.cookies).empty()) {
            return;  // the common case: nothing of ours in this line
        }
        // Written straight into the request's pool: no std::string per request.
        const std::size_t size = spotauth::stripped_cookies_size(value, s.cookies);
        auto* kept = static_cast<char*>(ngx_pnalloc(r->pool, size == 0 ? 1 : size));
        if (kept == nullptr) {
            ok = false;
            return;
        }
        line->value = {spotauth::strip_cookies_into(value, s.cookies, kept), reinterpret_cast<u_char*>(kept)};
    });
    return ok;
}

ngx_int_t proxy_with_token(ngx_http_request_t* r, const Settings& s, RequestState& state) {
    if (!set_authorization(r, state.session()->access_token) || !strip_module_cookies(r, s)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return NGX_OK;
}

// API locations answer JSON, whatever the Accept header says; pages
// answer a page whose login link comes back to them.
ngx_int_t deny(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure,
               spotauth::ProtectMode mode = spotauth::ProtectMode::on) {
    return answered_in_access_phase(r, mode == spotauth::ProtectMode::redirect
                                           ? send_error_page(r, s, failure, to_view(r->unparsed_uri))
                                           : send_error_json(r, s, failure));
}

// Proxies with the new token, or answers the failure.
ngx_int_t apply_refresh(ngx_http_request_t* r, const Settings& s, RequestState& state) {
    if (!state.absorb_refresh(s)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const spotauth::TokenOutcome outcome = state.result()->outcome;
    if (outcome == spotauth::TokenOutcome::ok) {
        return proxy_with_token(r, s, state);
    }
    return deny(r, s, spotauth::refresh_failure(outcome));
}

ngx_int_t refresh_then_proxy(ngx_http_request_t* r, const Settings& s, RequestState& state, std::string stale) {
    if (state.begin_refresh(s, std::move(stale), nullptr) == RequestState::Wait::parked) {
        return NGX_AGAIN;
    }
    state.wait_over();
    return apply_refresh(r, s, state);
}

// A protected request without a usable session, counted and logged.
void note_rejection(ngx_http_request_t* r, spotauth::CookieStatus status) {
    switch (status) {
        case spotauth::CookieStatus::valid: return;
        case spotauth::CookieStatus::absent: count(spotauth::kRejectedAbsent); return;
        case spotauth::CookieStatus::invalid: count(spotauth::kRejectedInvalid); break;
        case spotauth::CookieStatus::expired: count(spotauth::kRejectedExpired); break;
        case spotauth::CookieStatus::revoked: count(spotauth::kRejectedRevoked); break;
    }
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: session cookie rejected: %s",
                  status == spotauth::CookieStatus::expired   ? "expired"
                  : status == spotauth::CookieStatus::revoked ? "logged out"
                                                              : "invalid");
}

// What the location's rules say of a signed-in user (logged when refused).
spotauth::Authorization authorization_of(ngx_http_request_t* r, const spotauth::Session* session) {
    if (session == nullptr) {
        return spotauth::Authorization::allowed;  // nobody to judge: the cookie decides
    }
    const spotauth::Authorization authorization = spotauth::authorize(access_rules_of(r), *session);
    if (authorization != spotauth::Authorization::allowed) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: user \"%s\" refused here: %s",
                      session->user_id.c_str(), spotauth::authorization_name(authorization));
    }
    return authorization;
}

ngx_int_t login_redirect(ngx_http_request_t* r, const Settings& s, bool clear) {
    if (clear && !clear_cookie(r, s, s.cookies.session)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const std::string login =
        spotauth::append_query(s.login_uri, "return_to=" + spotauth::percent_encode(to_view(r->unparsed_uri)));
    return answered_in_access_phase(r, send_redirect(r, login));
}

ngx_int_t protect(ngx_http_request_t* r, const Settings& s, spotauth::ProtectMode mode) {
    RequestState* state = request_state(r);
    if (state == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    switch (state->wait()) {
        case RequestState::Wait::parked: return NGX_AGAIN;
        case RequestState::Wait::done: state->wait_over(); return apply_refresh(r, s, *state);
        case RequestState::Wait::none: break;
    }
    spotauth::AccessFacts facts;
    facts.mode = mode;
    facts.cookie = state->loaded() ? state->cookie() : state->load(s);
    if (mode != spotauth::ProtectMode::retry) {
        note_rejection(r, facts.cookie);
    }
    facts.authorization = authorization_of(r, state->session());
    facts.needs_refresh = state->session() != nullptr &&
                          spotauth::needs_refresh(*state->session(), now(), main_conf_of(r)->refresh_leeway);
    facts.replayed = state->replayed();
    facts.body_replayable = !r->request_body_no_buffering;
    const spotauth::AccessDecision decision = spotauth::decide_access(facts);
    ngx_log_debug3(
        NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "spotauth: access decision: %s%s%s",
        spotauth::action_name(decision.action), decision.action == spotauth::AccessAction::deny ? " " : "",
        decision.action == spotauth::AccessAction::deny ? spotauth::error_reply(decision.failure).code.data() : "");
    switch (decision.action) {
        case spotauth::AccessAction::proxy: return proxy_with_token(r, s, *state);
        case spotauth::AccessAction::refresh: return refresh_then_proxy(r, s, *state, "");
        case spotauth::AccessAction::force_refresh:
            state->mark_replayed();
            return refresh_then_proxy(r, s, *state, state->session()->access_token);
        case spotauth::AccessAction::serve_page:
            return strip_module_cookies(r, s) ? NGX_OK : NGX_HTTP_INTERNAL_SERVER_ERROR;
        case spotauth::AccessAction::login_redirect: return login_redirect(r, s, decision.clear_cookie);
        case spotauth::AccessAction::deny: return deny(r, s, decision.failure, mode);
    }
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

ngx_http_output_header_filter_pt next_header_filter;

// Adds the refreshed (or re-sealed) session cookie to whatever answered.
ngx_int_t header_filter(ngx_http_request_t* r) noexcept {
    const ngx_int_t rc = c_boundary(r->connection->log, "the header filter", NGX_ERROR, [r] {
        RequestState* state =
            r == r->main ? static_cast<RequestState*>(ngx_http_get_module_ctx(r, ngx_http_spotauth_module)) : nullptr;
        if (state != nullptr) {
            const std::string cookie = state->take_pending_cookie();
            if (!cookie.empty() && !add_response_header(r, "Set-Cookie", cookie)) {
                return NGX_ERROR;
            }
        }
        return NGX_OK;
    });
    return rc == NGX_OK ? next_header_filter(r) : rc;
}

}  // namespace

ngx_int_t access_handler(ngx_http_request_t* r) noexcept {
    const auto* lcf = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_spotauth_module));
    const Settings* s = settings_of(r);
    if (lcf->protect == kProtectOff || s == nullptr || worker() == nullptr) {
        return NGX_DECLINED;
    }
    return c_boundary(r->connection->log, "a protected request", NGX_HTTP_INTERNAL_SERVER_ERROR,
                      [&] { return protect(r, *s, protect_mode_of(lcf->protect)); });
}

void install_header_filter() {
    next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = header_filter;
}

}  // namespace spotauth_ngx
