// One request as the module sees it: what it carries (cookies, query
// arguments, headers), the session read from its cookie, and a refresh it
// may be parked on, resumed when the refresh is done.
#pragma once

#include "ngx_spotauth_module.hpp"

#include "spotauth/refresh.hpp"
#include "spotauth/session.hpp"
#include "spotauth/session_cookie.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth_ngx {

// --- what the request carries ------------------------------------------------

// The first cookie called exactly `name` (the parser that strips them too).
std::string_view cookie_value(ngx_http_request_t* r, std::string_view name);

// The names of the module's login cookies the request carries, in order.
std::vector<std::string> login_cookie_names(ngx_http_request_t* r, const Settings& s);

// The raw (still escaped) value of query argument `name`, if present.
std::optional<std::string_view> query_arg(ngx_http_request_t* r, std::string_view name);

// Query argument `name` decoded; empty when absent or malformed.
std::string decoded_arg(ngx_http_request_t* r, std::string_view name);

// The first request header called `name` (any case); empty when absent.
std::string_view request_header(ngx_http_request_t* r, std::string_view name);

// Refuses what a browser marks as coming from another site (the core's
// is_same_origin_request, with the connection's own scheme).
bool is_same_origin(ngx_http_request_t* r);

// A navigation (an HTML form) rather than fetch/XHR.
bool is_navigation(ngx_http_request_t* r);

// --- the module's state of a request -----------------------------------------

// What $spotauth_session_status says.
enum class SessionStatus { none, valid, refreshed, refresh_failed, invalid, expired, revoked };
const char* status_name(SessionStatus status);

class RequestState;

// Answers a content-handler request once its refresh is done.
using Responder = ngx_int_t (*)(ngx_http_request_t*, const Settings&, RequestState&);

// The request's module ctx, owned by its pool (pool_new), so it outlives an
// error_page redirect to the replay location, which wipes the ctx.
class RequestState {
public:
    enum class Wait { none, parked, done };

    explicit RequestState(ngx_http_request_t* r) : r_(r) {}
    ~RequestState();  // a parked request stops waiting
    RequestState(const RequestState&) = delete;
    RequestState& operator=(const RequestState&) = delete;

    // The session cookie, read on first use: a valid session sealed with a
    // key being rotated out is re-sealed on this response.
    spotauth::CookieStatus load(const Settings& s);
    bool loaded() const { return loaded_; }
    spotauth::CookieStatus cookie() const { return cookie_; }
    SessionStatus status() const { return status_; }
    const spotauth::Session* session() const { return session_.get(); }

    // Starts or joins the refresh of the session. Done::done: the result
    // is in result() now; parked: `resume` (or, if null, the phase engine)
    // runs when it is.
    Wait begin_refresh(const Settings& s, std::string stale_access_token, Responder resume);
    Wait wait() const { return wait_; }
    const std::optional<spotauth::RefreshResult>& result() const { return result_; }
    void wait_over() { wait_ = Wait::none; }

    // Takes the refresh result into the response: a new session cookie
    // (ok), a cleared one (refused), nothing (the session stays). False
    // only when out of memory.
    bool absorb_refresh(const Settings& s);

    bool replayed() const { return replayed_; }
    void mark_replayed() { replayed_ = true; }

    // The Set-Cookie the response still has to carry (header filter).
    std::string take_pending_cookie() { return std::move(pending_cookie_); }

private:
    spotauth::SessionCookieProblem reseal(const Settings& s, const spotauth::Session& session);
    void on_refreshed(const spotauth::RefreshResult& result);

    ngx_http_request_t* r_;
    bool loaded_ = false;
    spotauth::CookieStatus cookie_ = spotauth::CookieStatus::absent;
    SessionStatus status_ = SessionStatus::none;
    // Shared with the worker's SessionCache (a cached cookie costs no copy)
    // and kept alive by this request however long it is parked; replaced,
    // never modified, when the request re-seals.
    std::shared_ptr<const spotauth::Session> session_;
    std::string pending_cookie_;
    Wait wait_ = Wait::none;
    spotauth::RefreshCoordinator::WaiterId waiter_ = 0;
    std::optional<spotauth::RefreshResult> result_;
    const Settings* settings_ = nullptr;
    Responder resume_ = nullptr;
    bool replayed_ = false;
};

// The request's state: the ctx, recovered from the pool after a named
// location wiped it, or a new one. Null only when out of memory.
RequestState* request_state(ngx_http_request_t* r);

// The state if the module has one for this request.
RequestState* existing_request_state(ngx_http_request_t* r);

}  // namespace spotauth_ngx
