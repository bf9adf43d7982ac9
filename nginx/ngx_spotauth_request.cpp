// One request as the module sees it (see ngx_spotauth_request.hpp).
#include "ngx_spotauth_request.hpp"

#include "ngx_spotauth_reply.hpp"
#include "ngx_spotauth_worker.hpp"

#include "spotauth/cookie.hpp"
#include "spotauth/oauth.hpp"
#include "spotauth/responses.hpp"
#include "spotauth/url.hpp"

#include <iterator>

namespace spotauth_ngx {

std::string_view cookie_value(ngx_http_request_t* r, std::string_view name) {
    std::optional<std::string_view> found;
    for_each_cookie_line(r, [&](ngx_table_elt_t* line) {
        if (!found) {
            found = spotauth::find_cookie(to_view(line->value), name);
        }
    });
    return found.value_or(std::string_view());
}

std::vector<std::string> login_cookie_names(ngx_http_request_t* r, const Settings& s) {
    std::vector<std::string> names;
    for_each_cookie_line(r, [&](ngx_table_elt_t* line) {
        std::vector<std::string> found = spotauth::login_cookies(to_view(line->value), s.cookies);
        names.insert(names.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    });
    return names;
}

std::optional<std::string_view> query_arg(ngx_http_request_t* r, std::string_view name) {
    ngx_str_t value{0, nullptr};
    if (ngx_http_arg(r, reinterpret_cast<u_char*>(const_cast<char*>(name.data())), name.size(), &value) != NGX_OK) {
        return std::nullopt;
    }
    return to_view(value);
}

std::string decoded_arg(ngx_http_request_t* r, std::string_view name) {
    const auto raw = query_arg(r, name);
    const auto decoded = raw ? spotauth::percent_decode(*raw, true) : std::nullopt;
    return decoded.value_or("");
}

std::string_view request_header(ngx_http_request_t* r, std::string_view name) {
    for (ngx_list_part_t* part = &r->headers_in.headers.part; part != nullptr; part = part->next) {
        auto* h = static_cast<ngx_table_elt_t*>(part->elts);
        for (ngx_uint_t i = 0; i < part->nelts; ++i) {
            if (h[i].key.len == name.size() &&
                ngx_strncasecmp(h[i].key.data, reinterpret_cast<u_char*>(const_cast<char*>(name.data())),
                                name.size()) == 0) {
                return to_view(h[i].value);
            }
        }
    }
    return {};
}

// Sec-Fetch-Site is authoritative where sent; Origin (sent on cross-origin
// fetches and on every POST) must name this origin otherwise: scheme (the
// connection's; X-Forwarded-Proto is not trusted), host and port.
bool is_same_origin(ngx_http_request_t* r) {
    const std::string_view host = r->headers_in.host != nullptr ? to_view(r->headers_in.host->value) : "";
#if (NGX_HTTP_SSL)
    const bool is_https = r->connection->ssl != nullptr;
#else
    const bool is_https = false;
#endif
    return spotauth::is_same_origin_request(request_header(r, "Sec-Fetch-Site"), request_header(r, "Origin"), host,
                                            is_https);
}

bool is_navigation(ngx_http_request_t* r) {
    const std::string_view mode = request_header(r, "Sec-Fetch-Mode");
    return mode.empty() ? spotauth::prefers_html(request_header(r, "Accept")) : mode == "navigate";
}

const char* status_name(SessionStatus status) {
    switch (status) {
        case SessionStatus::none: return "none";
        case SessionStatus::valid: return "valid";
        case SessionStatus::refreshed: return "refreshed";
        case SessionStatus::refresh_failed: return "refresh_failed";
        case SessionStatus::invalid: return "invalid";
        case SessionStatus::expired: return "expired";
        case SessionStatus::revoked: return "revoked";
    }
    return "none";
}

RequestState::~RequestState() {
    if (waiter_ != 0 && worker() != nullptr) {
        worker()->refresh().cancel(waiter_);
    }
}

spotauth::CookieStatus RequestState::load(const Settings& s) {
    spotauth::SharedSession opened = worker()->open_session(s, cookie_value(r_, s.cookies.session));
    if (opened.status == spotauth::CookieStatus::valid && worker()->revoked(*opened.session)) {
        opened.status = spotauth::CookieStatus::revoked;  // logged out, here or on another machine
    }
    loaded_ = true;
    cookie_ = opened.status;
    switch (opened.status) {
        case spotauth::CookieStatus::absent: status_ = SessionStatus::none; break;
        case spotauth::CookieStatus::invalid: status_ = SessionStatus::invalid; break;
        case spotauth::CookieStatus::expired: status_ = SessionStatus::expired; break;
        case spotauth::CookieStatus::revoked: status_ = SessionStatus::revoked; break;
        case spotauth::CookieStatus::valid:
            status_ = SessionStatus::valid;
            session_ = std::move(opened.session);
            if (opened.old_key) {
                reseal(s, *session_);
            }
            break;
    }
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r_->connection->log, 0, "spotauth: session cookie: %s%s", status_name(status_),
                   opened.old_key ? ", sealed with an older key" : "");
    return opened.status;
}

// Queues a Set-Cookie with `session`, sealed with the current key, and
// makes it the request's session (its display name may have been trimmed).
spotauth::SessionCookieProblem RequestState::reseal(const Settings& s, const spotauth::Session& session) {
    spotauth::SessionCookie cookie = spotauth::session_set_cookie(s.keys, session, s.cookies.session,
                                                                  {s.secure_cookies, session.expires_at - now()});
    if (cookie.problem == spotauth::SessionCookieProblem::none) {
        session_ = std::make_shared<const spotauth::Session>(std::move(cookie.session));
        pending_cookie_ = std::move(cookie.set_cookie);
    }
    return cookie.problem;
}

RequestState::Wait RequestState::begin_refresh(const Settings& s, std::string stale_access_token, Responder resume) {
    const std::string& refresh_token = session_->refresh_token;
    if (refresh_token.empty()) {
        result_ = spotauth::refresh_without_token();
        wait_ = Wait::done;
        return wait_;
    }
    Worker* w = worker();
    std::string credentials = spotauth::body_credentials(s.client);
    spotauth::RefreshJob job{
        refresh_token, std::move(stale_access_token),
        spotauth::token_request(s.client, s.limits, spotauth::refresh_body(refresh_token, credentials)), &s.keys,
        std::move(credentials)};
    // The way back to this request: on_refreshed() (below) runs `resume`, or else the phase engine again.
    auto started = w->refresh().refresh(job, [this](const spotauth::RefreshResult& r) { on_refreshed(r); });
    if (started.result) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r_->connection->log, 0, "spotauth: refresh answered at once");
        result_ = std::move(started.result);
        wait_ = Wait::done;
        return wait_;
    }
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r_->connection->log, 0, "spotauth: refresh: waiting (waiter %uL)",
                   started.waiter);
    waiter_ = started.waiter;
    settings_ = &s;
    resume_ = resume;
    wait_ = Wait::parked;
    w->schedule_poll();
    // Notice a client that gives up while we wait (its waiter is cancelled).
    r_->read_event_handler = ngx_http_test_reading;
    return wait_;
}

void RequestState::on_refreshed(const spotauth::RefreshResult& result) {
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r_->connection->log, 0, "spotauth: refresh done, resuming (%s)",
                   result.outcome == spotauth::TokenOutcome::ok ? "ok" : result.error.c_str());
    result_ = result;
    waiter_ = 0;
    wait_ = Wait::done;
    ngx_http_request_t* r = r_;
    ngx_connection_t* c = r->connection;
    r->read_event_handler = ngx_http_block_reading;
    if (resume_ != nullptr) {
        // Finishing may free the request, and this state with it.
        finish_parked(r, c_boundary(c->log, "answering after a refresh", NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    [&] { return resume_(r, *settings_, *this); }));
        return;
    }
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}

bool RequestState::absorb_refresh(const Settings& s) {
    const spotauth::RefreshResult& result = *result_;
    const char* user = session_->user_id.c_str();
    ngx_log_t* log = r_->connection->log;
    switch (result.outcome) {
        case spotauth::TokenOutcome::ok:
            switch (reseal(s, spotauth::refreshed_session(*session_, result))) {
                case spotauth::SessionCookieProblem::none: status_ = SessionStatus::refreshed; return true;
                case spotauth::SessionCookieProblem::too_large:
                    // Sent, the cookie would be dropped: keep the old session.
                    result_ = spotauth::unsendable_refresh();
                    return absorb_refresh(s);
                case spotauth::SessionCookieProblem::seal_failed: return false;
            }
            return false;
        case spotauth::TokenOutcome::permanent:
            status_ = SessionStatus::refresh_failed;
            ngx_log_error(NGX_LOG_INFO, log, 0, "spotauth: session of user \"%s\" ended: refresh %s: %s", user,
                          result.error.c_str(), result.description.c_str());
            return true;
        case spotauth::TokenOutcome::misconfigured:
            if (worker()->misconfiguration_log_due()) {
                ngx_log_error(NGX_LOG_CRIT, log, 0,
                              "spotauth: token endpoint refuses this client (%s): %s; check spotauth_client_id, "
                              "spotauth_client_secret_file and spotauth_token_url",
                              result.error.c_str(), result.description.c_str());
            }
            return true;
        case spotauth::TokenOutcome::transient:
            ngx_log_error(NGX_LOG_WARN, log, 0, "spotauth: refresh for user \"%s\" failed, session kept: %s: %s", user,
                          result.error.c_str(), result.description.c_str());
            return true;
    }
    return true;
}

RequestState* existing_request_state(ngx_http_request_t* r) {
    auto* state = static_cast<RequestState*>(ngx_http_get_module_ctx(r, ngx_http_spotauth_module));
    if (state == nullptr && (state = pool_find<RequestState>(r->pool)) != nullptr) {
        ngx_http_set_ctx(r, state, ngx_http_spotauth_module);
    }
    return state;
}

RequestState* request_state(ngx_http_request_t* r) {
    RequestState* state = existing_request_state(r);
    if (state == nullptr && (state = pool_new<RequestState>(r->pool, r)) != nullptr) {
        ngx_http_set_ctx(r, state, ngx_http_spotauth_module);
    }
    return state;
}

}  // namespace spotauth_ngx
