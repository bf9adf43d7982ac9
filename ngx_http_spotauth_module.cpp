// nginx glue for spotauth: directives, configuration checks, the login and
// callback endpoints, the access-phase handler of protected locations, and
// the bridge between nginx's event loop and the core's libcurl client.
// Everything that does not need nginx types lives in the core (src/).

#include "ngx_spotauth_compat.hpp"
#include "ngx_spotauth_zone.hpp"

#include "spotauth/cookie.hpp"
#include "spotauth/crypto.hpp"
#include "spotauth/http_client.hpp"
#include "spotauth/jwe.hpp"
#include "spotauth/metrics.hpp"
#include "spotauth/oauth.hpp"
#include "spotauth/rate_limit.hpp"
#include "spotauth/refresh.hpp"
#include "spotauth/responses.hpp"
#include "spotauth/session.hpp"
#include "spotauth/session_cookie.hpp"
#include "spotauth/url.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" ngx_module_t ngx_http_spotauth_module;

namespace {

using spotauth::Expected;
using spotauth::HttpClient;
using spotauth::HttpRequest;
using spotauth::HttpResponse;

constexpr time_t kLoginTtlSeconds = 600;
constexpr std::size_t kMaxTokenResponseBytes = 64 * 1024;
constexpr std::size_t kMaxProfileResponseBytes = 256 * 1024;
constexpr std::size_t kSessionCacheSize = 512;
constexpr std::size_t kExchangeLimitAddresses = 10000;

// ---------------------------------------------------------------------------
// Configuration

// Everything a server needs at request time, checked and loaded once at
// configuration time (files read, keys parsed).
struct Settings {
    spotauth::ClientConfig client;
    spotauth::KeyRing keys{{}};
    spotauth::CookieNames cookies;
    bool secure_cookies = true;
    long connect_timeout_ms = 0;
    long timeout_ms = 0;
    spotauth::UnixTime session_lifetime = 0;
    std::string login_uri;
    std::string ca_file;
    // Per worker (each has its own copy after fork): recently opened cookies.
    mutable spotauth::SessionCache sessions{kSessionCacheSize};
};

struct SrvConf {
    ngx_str_t client_id;
    ngx_str_t client_secret_file;
    ngx_array_t* key_files;  // of ngx_str_t
    ngx_str_t redirect_uri;
    ngx_str_t scopes;
    ngx_str_t authorize_url;
    ngx_str_t token_url;
    ngx_str_t api_url;
    ngx_str_t ca_file;
    ngx_flag_t cookie_secure;
    ngx_msec_t connect_timeout;
    ngx_msec_t timeout;
    time_t session_lifetime;
    ngx_str_t login_uri;  // where spotauth_login sits in this server
    ngx_flag_t used;      // some location of this server needs the settings
    ngx_flag_t has_login;  // a location of this server has spotauth_login
    ngx_flag_t protects;   // "spotauth on|redirect|retry" is used in this server
    Settings* settings;
};

// http-level settings shared by every server: refresh coordination is per
// worker, and its memory is one shared zone.
// Code exchanges per minute (spotauth_exchange_limit).
struct ExchangeLimits {
    std::uint32_t per_address;
    std::uint32_t in_total;  // per worker
};

struct MainConf {
    ngx_shm_zone_t* zone;
    time_t refresh_leeway;
    ngx_msec_t refresh_cache;
    ExchangeLimits exchange_limits;
    ngx_flag_t exchange_limits_set;
    ngx_flag_t used;
};

constexpr ExchangeLimits kDefaultExchangeLimits = {20, 600};

enum ProtectMode : ngx_uint_t {
    kProtectOff = 0,
    kProtectOn,     // session required; refresh ahead of expiry
    kProtectRetry,  // the replay location after an upstream 401: force one refresh
    kProtectRedirect,  // pages: a visitor without a session is sent to log in
};

struct LocConf {
    ngx_uint_t protect;  // ProtectMode
};

// ---------------------------------------------------------------------------
// Small conversions between nginx and C++ strings

std::string to_string(const ngx_str_t& s) {
    return std::string(reinterpret_cast<const char*>(s.data), s.len);
}

std::string_view to_view(const ngx_str_t& s) {
    return std::string_view(reinterpret_cast<const char*>(s.data), s.len);
}

// Copies `s` into `pool`; {0, NULL} when out of memory.
ngx_str_t to_ngx(ngx_pool_t* pool, std::string_view s) {
    ngx_str_t out{0, nullptr};
    auto* data = static_cast<u_char*>(ngx_pnalloc(pool, s.size() == 0 ? 1 : s.size()));
    if (data != nullptr) {
        ngx_memcpy(data, s.data(), s.size());
        out = {s.size(), data};
    }
    return out;
}

// ---------------------------------------------------------------------------
// Per-worker HTTP client driven by nginx events

// Maps libcurl's sockets and timer onto nginx connections and an nginx timer.
// Sockets are watched level-triggered: curl may leave data unread, and
// edge-triggered epoll would then never wake it again.
class NginxEventLoop : public spotauth::EventLoop {
public:
    explicit NginxEventLoop(ngx_log_t* log) : log_(log) {
        ngx_memzero(&timer_, sizeof timer_);
        timer_.handler = &NginxEventLoop::on_timer;
        timer_.data = this;
        timer_.log = log_;
        // Not cancelable: curl arms it only while a transfer runs, and a
        // worker leaving on reload must stay until its token calls are
        // answered (a rotated refresh token would be lost otherwise), as it
        // does for a proxied request.
        timer_.cancelable = 0;
    }

    ~NginxEventLoop() override {
        if (timer_.timer_set) {
            ngx_del_timer(&timer_);
        }
        for (auto& [fd, c] : connections_) {
            release(c);
        }
    }

    void attach(HttpClient* client) { client_ = client; }

    void watch(int fd, int interest) override {
        auto it = connections_.find(fd);
        if (interest == kNone) {
            if (it != connections_.end()) {
                release(it->second);
                connections_.erase(it);
            }
            return;
        }
        ngx_connection_t* c = it != connections_.end() ? it->second : adopt(fd);
        if (c == nullptr) {
            return;  // logged by adopt(); curl's own timeout ends the transfer
        }
        set_interest(c->read, NGX_READ_EVENT, (interest & kRead) != 0);
        set_interest(c->write, NGX_WRITE_EVENT, (interest & kWrite) != 0);
    }

    void arm_timer(long ms) override {
        if (ms < 0) {
            if (timer_.timer_set) {
                ngx_del_timer(&timer_);
            }
            return;
        }
        ngx_add_timer(&timer_, static_cast<ngx_msec_t>(ms));
    }

private:
    ngx_connection_t* adopt(int fd) {
        ngx_connection_t* c = ngx_get_connection(fd, log_);
        if (c == nullptr) {
            ngx_log_error(NGX_LOG_ALERT, log_, 0,
                          "spotauth: no free connection for a token endpoint socket");
            return nullptr;
        }
        c->data = this;
        c->read->handler = &NginxEventLoop::on_socket_event;
        c->write->handler = &NginxEventLoop::on_socket_event;
        c->read->log = log_;
        c->write->log = log_;
        connections_.emplace(fd, c);
        return c;
    }

    void set_interest(ngx_event_t* ev, ngx_int_t event, bool wanted) {
        if (wanted && !ev->active) {
            ngx_add_event(ev, event, NGX_LEVEL_EVENT);
        } else if (!wanted && ev->active) {
            ngx_del_event(ev, event, 0);
        }
    }

    // The socket belongs to curl: stop watching it but never close it.
    static void release(ngx_connection_t* c) {
        if (c->read->active) {
            ngx_del_event(c->read, NGX_READ_EVENT, 0);
        }
        if (c->write->active) {
            ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
        }
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }

    static void on_socket_event(ngx_event_t* ev) {
        auto* c = static_cast<ngx_connection_t*>(ev->data);
        auto* self = static_cast<NginxEventLoop*>(c->data);
        // `c` may be released inside on_socket_ready: read what we need first.
        const int fd = c->fd;
        const int events = ev->write ? kWrite : kRead;
        self->client_->on_socket_ready(fd, events);
    }

    static void on_timer(ngx_event_t* ev) {
        static_cast<NginxEventLoop*>(ev->data)->client_->on_timeout();
    }

    ngx_log_t* log_;
    ngx_event_t timer_;
    HttpClient* client_ = nullptr;
    std::unordered_map<int, ngx_connection_t*> connections_;
};

// ---------------------------------------------------------------------------
// Metrics of the refresh coordinator, counted in the shared zone

class MetricsObserver : public spotauth::RefreshObserver {
public:
    explicit MetricsObserver(spotauth_ngx::ZoneCounters& counters) : counters_(counters) {}

    void call_started() override { counters_.call_started(); }

    void call_finished(spotauth::TokenOutcome outcome, double seconds) override {
        counters_.call_finished();
        counters_.add_latency(seconds);
        switch (outcome) {
            case spotauth::TokenOutcome::ok: counters_.add(spotauth::kRefreshOk); break;
            case spotauth::TokenOutcome::permanent: counters_.add(spotauth::kRefreshPermanent); break;
            case spotauth::TokenOutcome::transient: counters_.add(spotauth::kRefreshTransient); break;
            case spotauth::TokenOutcome::misconfigured: counters_.add(spotauth::kRefreshMisconfigured); break;
        }
    }

    void joined() override { counters_.add(spotauth::kRefreshJoined); }
    void cache_hit() override { counters_.add(spotauth::kRefreshCacheHits); }
    void remote_wait() override { counters_.add(spotauth::kRefreshRemoteWaits); }

private:
    spotauth_ngx::ZoneCounters& counters_;
};

spotauth::MilliTime now_ms() {
    const ngx_time_t* tp = ngx_timeofday();
    return static_cast<spotauth::MilliTime>(tp->sec) * 1000 + static_cast<spotauth::MilliTime>(tp->msec);
}

constexpr ngx_msec_t kRefreshPollMs = 20;

// Everything a worker process owns: the HTTP client on nginx's event loop
// and the refresh coordinator with its poll timer.
struct Worker {
    Worker(ngx_log_t* log, ngx_shm_zone_t* zone, spotauth::RefreshTiming timing,
           const ExchangeLimits& limits)
        : loop(log), client(loop), store(zone), login_states(zone), counters(zone), observer(counters),
          refresh(client, store, observer, &now_ms, timing),
          exchanges_per_address(limits.per_address, kExchangeLimitAddresses),
          exchanges_in_total(limits.in_total, 1) {
        loop.attach(&client);
        counters.start_worker();
        ngx_memzero(&poll_timer, sizeof poll_timer);
        poll_timer.handler = &Worker::on_poll;
        poll_timer.data = this;
        poll_timer.log = log;
        // Armed only while requests wait on another worker's refresh (at
        // most RefreshTiming::wait_limit): a worker leaving on reload
        // answers them first.
        poll_timer.cancelable = 0;
    }

    ~Worker() {
        if (poll_timer.timer_set) {
            ngx_del_timer(&poll_timer);
        }
    }

    // Keeps checking on other workers' refreshes while anyone waits for one.
    void schedule_poll() {
        if (refresh.needs_polling() && !poll_timer.timer_set) {
            ngx_add_timer(&poll_timer, kRefreshPollMs);
        }
    }

    static void on_poll(ngx_event_t* ev) {
        auto* self = static_cast<Worker*>(ev->data);
        self->refresh.poll();
        self->schedule_poll();
    }

    // 0 when a code exchange for `address` may start now, otherwise the
    // milliseconds until one may.
    spotauth::MilliTime exchange_wait(std::string_view address) {
        const spotauth::MilliTime now = now_ms();
        const spotauth::MilliTime wait = exchanges_per_address.take(address, now);
        return wait != 0 ? wait : exchanges_in_total.take("", now);
    }

    NginxEventLoop loop;
    HttpClient client;
    spotauth_ngx::ZoneRefreshStore store;
    spotauth_ngx::ZoneLoginStates login_states;
    spotauth_ngx::ZoneCounters counters;
    MetricsObserver observer;
    spotauth::RefreshCoordinator refresh;
    spotauth::RateLimiter exchanges_per_address;
    spotauth::RateLimiter exchanges_in_total;
    ngx_event_t poll_timer;
};

Worker* worker = nullptr;

// ---------------------------------------------------------------------------
// Responses

bool add_response_header(ngx_http_request_t* r, std::string_view name, std::string_view value) {
    auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) {
        return false;
    }
    h->hash = 1;
    spotauth_ngx::unlink_header(h);
    h->key = to_ngx(r->pool, name);
    h->value = to_ngx(r->pool, value);
    return h->key.data != nullptr && h->value.data != nullptr;
}

ngx_int_t send_body(ngx_http_request_t* r, ngx_uint_t status, std::string_view content_type,
                    std::string_view body) {
    r->headers_out.status = status;
    r->headers_out.content_length_n = static_cast<off_t>(body.size());
    r->headers_out.content_type = to_ngx(r->pool, content_type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    if (r->headers_out.content_type.data == nullptr ||
        !add_response_header(r, "Cache-Control", "no-store")) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (r->method == NGX_HTTP_HEAD || body.empty()) {
        r->header_only = 1;
    }
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    ngx_buf_t* b = ngx_create_temp_buf(r->pool, body.size());
    if (b == nullptr) {
        return NGX_ERROR;
    }
    b->last = ngx_cpymem(b->last, body.data(), body.size());
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    ngx_chain_t out{b, nullptr};
    return ngx_http_output_filter(r, &out);
}

std::string accept_header(ngx_http_request_t* r) {
#if (NGX_HTTP_HEADERS)
    if (r->headers_in.accept != nullptr) {
        return to_string(r->headers_in.accept->value);
    }
#endif
    return {};
}

struct ErrorReply {
    ngx_uint_t status;
    std::string code;         // stable, machine-readable
    std::string description;  // for people; never contains secrets
    std::string login_url;    // where to start over, when that helps
};

// JSON for programs, a small page for a person whose browser navigated here.
ngx_int_t send_error(ngx_http_request_t* r, const ErrorReply& e) {
    if (spotauth::prefers_html(accept_header(r))) {
        const std::string link = e.login_url.empty() ? "/" : e.login_url;
        return send_body(r, e.status, "text/html; charset=utf-8",
                         spotauth::error_html("Sign-in problem", e.description, link,
                                              e.login_url.empty() ? "Back to the site" : "Sign in again"));
    }
    return send_body(r, e.status, "application/json",
                     spotauth::error_json(e.code, e.description, e.login_url));
}

ngx_int_t send_redirect(ngx_http_request_t* r, std::string_view location) {
    r->headers_out.location = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (r->headers_out.location == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->headers_out.location->hash = 1;
    spotauth_ngx::unlink_header(r->headers_out.location);
    ngx_str_set(&r->headers_out.location->key, "Location");
    r->headers_out.location->value = to_ngx(r->pool, location);
    if (r->headers_out.location->value.data == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_body(r, NGX_HTTP_MOVED_TEMPORARILY, "text/plain", "");
}

bool set_cookie(ngx_http_request_t* r, const Settings& s, std::string_view name,
                std::string_view value, std::int64_t max_age) {
    return add_response_header(
        r, "Set-Cookie", spotauth::set_cookie_value(name, value, {s.secure_cookies, max_age}));
}

// ---------------------------------------------------------------------------
// Request helpers

const MainConf* main_conf_of(ngx_http_request_t* r) {
    return static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_spotauth_module));
}

const Settings* settings_of(ngx_http_request_t* r) {
    return static_cast<SrvConf*>(ngx_http_get_module_srv_conf(r, ngx_http_spotauth_module))->settings;
}

// The first cookie called `name` in the request's Cookie header lines, as a
// view into the header (valid for the request's life); empty when absent.
// The same parser strips them (strip_module_cookies).
std::string_view cookie_value(ngx_http_request_t* r, const std::string& name) {
    std::optional<std::string_view> found;
    spotauth_ngx::for_each_cookie_line(r, [&](ngx_table_elt_t* line) {
        if (!found) {
            found = spotauth::find_cookie(to_view(line->value), name);
        }
    });
    return found.value_or(std::string_view());
}

// The raw (still escaped) value of query argument `name`, if present.
std::optional<std::string> query_arg(ngx_http_request_t* r, std::string_view name) {
    ngx_str_t value{0, nullptr};
    if (ngx_http_arg(r, reinterpret_cast<u_char*>(const_cast<char*>(name.data())), name.size(),
                     &value) != NGX_OK) {
        return std::nullopt;
    }
    return to_string(value);
}

std::string decoded_arg(ngx_http_request_t* r, std::string_view name) {
    const auto raw = query_arg(r, name);
    const auto decoded = raw ? spotauth::percent_decode(*raw, true) : std::nullopt;
    return decoded.value_or("");
}

spotauth::UnixTime now() { return static_cast<spotauth::UnixTime>(ngx_time()); }

// Runs `handler`, turning any C++ exception into a 500 so none crosses into C.
template <typename F>
ngx_int_t guarded(ngx_http_request_t* r, F&& handler) {
    try {
        return handler();
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "spotauth: \"%V\" failed: %s", &r->uri,
                      e.what());
    }
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

constexpr ngx_uint_t kGetOrHead = NGX_HTTP_GET | NGX_HTTP_HEAD;

// What every endpoint does first: refuse other methods, drop any body, and
// keep exceptions out of nginx.
template <ngx_int_t (*Endpoint)(ngx_http_request_t*), ngx_uint_t Methods = kGetOrHead>
ngx_int_t endpoint_handler(ngx_http_request_t* r) {
    if ((r->method & Methods) == 0) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return guarded(r, [r] { return Endpoint(r); });
}

// ---------------------------------------------------------------------------
// /auth/login

ngx_int_t login(ngx_http_request_t* r) {
    const Settings& s = *settings_of(r);
    const auto state = spotauth::random_token();
    const auto verifier = spotauth::random_token();
    if (!state || !verifier) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const std::string return_to = spotauth::safe_return_to(query_arg(r, "return_to").value_or(""));
    const auto login_cookie =
        spotauth::seal_login(s.keys, {*state, *verifier, return_to, now() + kLoginTtlSeconds});
    if (!login_cookie) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!worker->login_states.record(spotauth::login_state_key(*state), now() + kLoginTtlSeconds, now())) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "spotauth: no room in the zone for a login state; enlarge spotauth_zone");
        add_response_header(r, "Retry-After", "1");
        return send_error(r, {NGX_HTTP_SERVICE_UNAVAILABLE, "login_unavailable",
                              "Sign-in is busy right now; try again in a moment.", ""});
    }
    if (!set_cookie(r, s, s.cookies.login, *login_cookie, kLoginTtlSeconds)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_redirect(r, spotauth::authorize_url(s.client, *state, spotauth::pkce_challenge(*verifier)));
}

// ---------------------------------------------------------------------------
// /auth/callback: exchange the code, fetch the profile, set the session

// Lives as long as the request (deleted by a pool cleanup), so a client that
// goes away mid-exchange cancels its transfer instead of leaving a callback
// pointing at freed memory.
struct CallbackContext {
    ngx_http_request_t* r = nullptr;
    const Settings* settings = nullptr;
    spotauth::LoginTransaction login;
    spotauth::TokenResponse tokens;
    HttpClient::TransferId transfer = 0;
};

void destroy_callback_context(void* data) {
    auto* ctx = static_cast<CallbackContext*>(data);
    if (ctx->transfer != 0 && worker != nullptr) {
        worker->client.cancel(ctx->transfer);
    }
    delete ctx;
}

// Ends a request that was parked with r->main->count++ / NGX_DONE.
void finish_async(ngx_http_request_t* r, ngx_int_t rc) {
    ngx_connection_t* c = r->connection;
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

void count(spotauth::Counter c) {
    if (worker != nullptr) {
        worker->counters.add(c);
    }
}

// A sign-in that fails before the code exchange; later ones end in finish_callback.
ngx_int_t callback_failure(ngx_http_request_t* r, const ErrorReply& error) {
    count(spotauth::kLoginsFailed);
    return send_error(r, error);
}

void finish_callback(CallbackContext* ctx, const ErrorReply& error) {
    count(spotauth::kLoginsFailed);
    ctx->transfer = 0;
    finish_async(ctx->r, send_error(ctx->r, error));
}

ErrorReply upstream_failure(const Settings& s, std::string code, std::string description) {
    return {NGX_HTTP_BAD_GATEWAY, std::move(code), std::move(description), s.login_uri};
}

HttpRequest token_request(const Settings& s, std::string body) {
    HttpRequest req;
    req.url = s.client.token_url;
    req.headers = {spotauth::basic_auth_header(s.client),
                   "Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
    req.post_body = std::move(body);
    req.connect_timeout_ms = s.connect_timeout_ms;
    req.total_timeout_ms = s.timeout_ms;
    req.max_response_bytes = kMaxTokenResponseBytes;
    req.ca_file = s.ca_file;
    return req;
}

const char* outcome_name(spotauth::TokenOutcome outcome) {
    switch (outcome) {
        case spotauth::TokenOutcome::ok: return "ok";
        case spotauth::TokenOutcome::permanent: return "permanent";
        case spotauth::TokenOutcome::transient: return "transient";
        case spotauth::TokenOutcome::misconfigured: return "misconfigured";
    }
    return "unknown";
}

void on_profile(CallbackContext* ctx, const HttpResponse& res) {
    ngx_http_request_t* r = ctx->r;
    const Settings& s = *ctx->settings;
    const auto profile = spotauth::parse_profile(res.status, res.body);
    if (!profile) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "spotauth: login failed: profile request answered HTTP %l %s", res.status,
                      res.error.c_str());
        finish_callback(ctx, upstream_failure(s, "profile_unavailable",
                                              "Could not read your Spotify profile; try again."));
        return;
    }
    const spotauth::SessionCookie cookie = spotauth::session_set_cookie(
        s.keys, spotauth::new_session(*profile, ctx->tokens, now(), s.session_lifetime),
        s.cookies.session, {s.secure_cookies, s.session_lifetime});
    if (cookie.problem == spotauth::SessionCookieProblem::too_large) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "spotauth: login failed for user \"%s\": session cookie of %uz bytes "
                      "exceeds %uz even without the display name",
                      profile->id.c_str(), cookie.untrimmed_bytes, spotauth::kMaxSetCookieBytes);
        finish_callback(ctx, upstream_failure(s, "session_too_large",
                                              "Spotify's tokens are too large to keep in a cookie."));
        return;
    }
    if (cookie.problem != spotauth::SessionCookieProblem::none ||
        !add_response_header(r, "Set-Cookie", cookie.set_cookie)) {
        finish_async(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    count(spotauth::kLoginsOk);
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: login ok for user \"%s\"",
                  profile->id.c_str());
    ctx->transfer = 0;
    finish_async(r, send_redirect(r, ctx->login.return_to));
}

void start_profile_fetch(CallbackContext* ctx) {
    const Settings& s = *ctx->settings;
    HttpRequest req;
    req.url = spotauth::profile_url(s.client);
    req.headers = {"Authorization: Bearer " + ctx->tokens.access_token, "Accept: application/json"};
    req.connect_timeout_ms = s.connect_timeout_ms;
    req.total_timeout_ms = s.timeout_ms;
    req.max_response_bytes = kMaxProfileResponseBytes;
    req.ca_file = s.ca_file;
    ctx->transfer = worker->client.start(req, [ctx](const HttpResponse& res) { on_profile(ctx, res); });
    if (ctx->transfer == 0) {
        finish_async(ctx->r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

void on_code_exchanged(CallbackContext* ctx, const HttpResponse& res) {
    worker->counters.add_latency(res.total_seconds);
    ctx->tokens = spotauth::parse_token_response(res.status, res.body);
    if (ctx->tokens.outcome != spotauth::TokenOutcome::ok) {
        const std::string why = res.status == 0 ? res.error : ctx->tokens.description;
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "spotauth: login failed: code exchange %s (%s): %s",
                      outcome_name(ctx->tokens.outcome), ctx->tokens.error.c_str(), why.c_str());
        finish_callback(ctx, upstream_failure(*ctx->settings, "token_exchange_failed",
                                              "Spotify did not accept the sign-in; try again."));
        return;
    }
    start_profile_fetch(ctx);
}

ErrorReply provider_refusal(const Settings& s, const std::string& error) {
    if (error == "access_denied") {
        return {NGX_HTTP_FORBIDDEN, "access_denied",
                "You declined to connect your Spotify account.", s.login_uri};
    }
    return {NGX_HTTP_BAD_GATEWAY, "provider_error", "Spotify refused the sign-in request.",
            s.login_uri};
}

ngx_int_t callback(ngx_http_request_t* r) {
    const Settings& s = *settings_of(r);
    // The login transaction is single-use, whatever happens next.
    if (!set_cookie(r, s, s.cookies.login, "", 0)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const std::string provider_error = decoded_arg(r, "error");
    if (!provider_error.empty()) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: login refused by provider: %s",
                      spotauth::percent_encode(provider_error).c_str());
        return callback_failure(r, provider_refusal(s, provider_error));
    }
    const auto login = spotauth::open_login(s.keys, cookie_value(r, s.cookies.login), now());
    const std::string state = decoded_arg(r, "state");
    if (!login || !spotauth::constant_time_equal(state, login->state)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: login rejected: %s",
                      login ? "state mismatch" : "no valid login cookie");
        return callback_failure(r, {NGX_HTTP_BAD_REQUEST, "invalid_state",
                              "This sign-in link is stale or was opened in another browser; "
                              "please start again.",
                              s.login_uri});
    }
    if (const spotauth::MilliTime wait = worker->exchange_wait(to_view(r->connection->addr_text))) {
        count(spotauth::kCodeExchangesLimited);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "spotauth: login refused before the code exchange: spotauth_exchange_limit reached");
        add_response_header(r, "Retry-After", std::to_string((wait + 999) / 1000));
        return callback_failure(r, {NGX_HTTP_TOO_MANY_REQUESTS, "too_many_requests",
                                    "Too many sign-in attempts; wait a moment and sign in again.", s.login_uri});
    }
    // Single use on the server too: a kept login cookie replayed with
    // made-up codes must not reach the token endpoint.
    if (!worker->login_states.consume(spotauth::login_state_key(login->state), now())) {
        count(spotauth::kLoginReplays);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: login rejected: state already used");
        return callback_failure(r, {NGX_HTTP_BAD_REQUEST, "invalid_state",
                                    "This sign-in link was already used; please start again.", s.login_uri});
    }
    const std::string code = decoded_arg(r, "code");
    if (code.empty()) {
        return callback_failure(r, {NGX_HTTP_BAD_REQUEST, "invalid_request",
                              "The sign-in response has no authorization code.", s.login_uri});
    }
    auto* ctx = new CallbackContext{r, &s, *login, {}, 0};
    ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(r->pool, 0);
    if (cleanup == nullptr) {
        delete ctx;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    cleanup->handler = &destroy_callback_context;
    cleanup->data = ctx;
    ctx->transfer = worker->client.start(
        token_request(s, spotauth::code_exchange_body(s.client, code, login->code_verifier)),
        [ctx](const HttpResponse& res) { on_code_exchanged(ctx, res); });
    if (ctx->transfer == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->main->count++;
    return NGX_DONE;
}

// ---------------------------------------------------------------------------
// Protected locations: `spotauth on`

bool set_authorization(ngx_http_request_t* r, std::string_view access_token) {
    const std::string value = "Bearer " + std::string(access_token);
    ngx_table_elt_t* h = r->headers_in.authorization;
    if (h == nullptr) {
        h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_in.headers));
        if (h == nullptr) {
            return false;
        }
        h->hash = ngx_hash_key((u_char*) "authorization", sizeof("authorization") - 1);
        spotauth_ngx::unlink_header(h);
        ngx_str_set(&h->key, "Authorization");
        h->lowcase_key = (u_char*) "authorization";
        r->headers_in.authorization = h;
    }
    h->value = to_ngx(r->pool, value);
    // Cached Basic credentials, if any module parsed them, are now stale.
    r->headers_in.user.len = 0;
    r->headers_in.passwd.len = 0;
    return h->value.data != nullptr;
}

// Upstream sees every cookie but the module's own. (nginx cannot drop a
// request header line, so a Cookie header that held only ours goes empty.)
bool strip_module_cookies(ngx_http_request_t* r, const Settings& s) {
    bool ok = true;
    spotauth_ngx::for_each_cookie_line(r, [&](ngx_table_elt_t* line) {
        const std::string kept =
            spotauth::strip_cookies(to_view(line->value), {s.cookies.session, s.cookies.login});
        if (kept.size() != line->value.len) {
            line->value = to_ngx(r->pool, kept);
            ok = ok && line->value.data != nullptr;
        }
    });
    return ok;
}

// What the module knows about one request to a protected location. It is
// the request's module ctx, and is also registered as a pool cleanup so it
// can be found again after nginx wipes the ctx on an error_page redirect to
// the replay location (see recover_state).
// What $spotauth_session_status says.
enum class SessionStatus { none, valid, refreshed, refresh_failed, invalid, expired };

const char* status_name(SessionStatus status) {
    switch (status) {
        case SessionStatus::none: return "none";
        case SessionStatus::valid: return "valid";
        case SessionStatus::refreshed: return "refreshed";
        case SessionStatus::refresh_failed: return "refresh_failed";
        case SessionStatus::invalid: return "invalid";
        case SessionStatus::expired: return "expired";
    }
    return "none";
}

struct RequestState {
    enum class Step { start, waiting, ready };

    ngx_http_request_t* r = nullptr;
    Step step = Step::start;
    bool have_session = false;
    bool loaded = false;       // the session cookie has been read
    SessionStatus status = SessionStatus::none;
    bool replayed = false;     // the replay location forced its one refresh
    bool in_refresh = false;   // inside RefreshCoordinator::refresh()
    spotauth::Session session;
    std::string sent_token;    // the access token sent upstream
    std::string set_cookie;    // a Set-Cookie for the response, if any
    spotauth::RefreshResult result;
    bool refreshed = false;    // `result` holds a refresh made for this request
    spotauth::RefreshCoordinator::WaiterId waiter = 0;
    const Settings* settings = nullptr;
    // Content handlers: answers once the session is fresh (nullptr in the
    // access phase, which re-runs the phase engine instead).
    ngx_int_t (*respond)(ngx_http_request_t*, const Settings&, RequestState*) = nullptr;
};

void destroy_request_state(void* data) {
    auto* state = static_cast<RequestState*>(data);
    if (state->waiter != 0 && worker != nullptr) {
        worker->refresh.cancel(state->waiter);
    }
    delete state;
}

RequestState* recover_state(ngx_http_request_t* r) {
    for (ngx_pool_cleanup_t* c = r->pool->cleanup; c != nullptr; c = c->next) {
        if (c->handler == &destroy_request_state) {
            return static_cast<RequestState*>(c->data);
        }
    }
    return nullptr;
}

RequestState* find_state(ngx_http_request_t* r) {
    auto* state = static_cast<RequestState*>(ngx_http_get_module_ctx(r, ngx_http_spotauth_module));
    if (state == nullptr && (state = recover_state(r)) != nullptr) {
        ngx_http_set_ctx(r, state, ngx_http_spotauth_module);
    }
    return state;
}

RequestState* create_state(ngx_http_request_t* r) {
    ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(r->pool, 0);
    if (cleanup == nullptr) {
        return nullptr;
    }
    auto* state = new RequestState;
    state->r = r;
    cleanup->handler = &destroy_request_state;
    cleanup->data = state;
    ngx_http_set_ctx(r, state, ngx_http_spotauth_module);
    return state;
}

ngx_int_t respond_from_access_phase(ngx_http_request_t* r, ngx_int_t rc) {
    // The access phase cannot return a custom body: send it, finalize here
    // and tell the phase engine the request is taken care of.
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}

ngx_int_t deny(ngx_http_request_t* r, const Settings& s, const std::string& code,
               const std::string& description, bool clear_cookie) {
    if (clear_cookie && !set_cookie(r, s, s.cookies.session, "", 0)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    add_response_header(r, "WWW-Authenticate", "Bearer realm=\"spotauth\"");
    return respond_from_access_phase(
        r, send_body(r, NGX_HTTP_UNAUTHORIZED, "application/json",
                     spotauth::error_json(code, description, s.login_uri)));
}

ngx_int_t inject(ngx_http_request_t* r, const Settings& s, RequestState* state,
                 const std::string& access_token) {
    if (!set_authorization(r, access_token) || !strip_module_cookies(r, s)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    state->sent_token = access_token;
    return NGX_OK;
}

// Logs a misconfigured token endpoint at most once a minute per worker.
void log_misconfiguration(ngx_log_t* log, const spotauth::RefreshResult& result) {
    static time_t last_logged = 0;
    if (ngx_time() - last_logged >= 60) {
        last_logged = ngx_time();
        ngx_log_error(NGX_LOG_CRIT, log, 0,
                      "spotauth: token endpoint refuses this client (%s): %s; check "
                      "spotauth_client_id, spotauth_client_secret_file and spotauth_token_url",
                      result.error.c_str(), result.description.c_str());
    }
}

// Queues a Set-Cookie with `session`, sealed with the current key, and
// makes it the state's session (its display name may have been trimmed).
spotauth::SessionCookieProblem reseal(const Settings& s, RequestState* state,
                                      const spotauth::Session& session) {
    spotauth::SessionCookie cookie = spotauth::session_set_cookie(
        s.keys, session, s.cookies.session, {s.secure_cookies, session.expires_at - now()});
    if (cookie.problem == spotauth::SessionCookieProblem::none) {
        state->session = std::move(cookie.session);
        state->set_cookie = std::move(cookie.set_cookie);
    }
    return cookie.problem;
}

// Reads the session cookie into `state`. A session sealed with a key being
// rotated out is re-sealed with the current one on this response.
spotauth::CookieStatus load_session(ngx_http_request_t* r, const Settings& s, RequestState* state) {
    const auto opened = s.sessions.open(s.keys, cookie_value(r, s.cookies.session), now());
    state->loaded = true;
    switch (opened.status) {
        case spotauth::CookieStatus::absent: state->status = SessionStatus::none; break;
        case spotauth::CookieStatus::invalid: state->status = SessionStatus::invalid; break;
        case spotauth::CookieStatus::expired: state->status = SessionStatus::expired; break;
        case spotauth::CookieStatus::valid:
            state->status = SessionStatus::valid;
            state->session = opened.session;
            state->have_session = true;
            if (opened.old_key) {
                reseal(s, state, opened.session);
            }
            break;
    }
    return opened.status;
}

// Takes a finished refresh into the request: a new session cookie for the
// response (ok), a cleared one (permanent), or nothing (the session stays).
// Returns false only when out of memory.
bool absorb_refresh(ngx_http_request_t* r, const Settings& s, RequestState* state) {
    const spotauth::RefreshResult& result = state->result;
    const char* user = state->session.user_id.c_str();
    ngx_log_t* log = r->connection->log;
    switch (result.outcome) {
        case spotauth::TokenOutcome::ok:
            switch (reseal(s, state, spotauth::refreshed_session(state->session, result))) {
                case spotauth::SessionCookieProblem::none:
                    state->status = SessionStatus::refreshed;
                    return true;
                case spotauth::SessionCookieProblem::too_large:
                    // Sent, the cookie would be dropped: keep the old session.
                    state->result = spotauth::unsendable_refresh();
                    return absorb_refresh(r, s, state);
                case spotauth::SessionCookieProblem::seal_failed:
                    return false;
            }
            return false;
        case spotauth::TokenOutcome::permanent:
            state->status = SessionStatus::refresh_failed;
            ngx_log_error(NGX_LOG_INFO, log, 0, "spotauth: session of user \"%s\" ended: refresh %s: %s",
                          user, result.error.c_str(), result.description.c_str());
            return set_cookie(r, s, s.cookies.session, "", 0);
        case spotauth::TokenOutcome::misconfigured:
            log_misconfiguration(log, result);
            return true;
        case spotauth::TokenOutcome::transient:
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "spotauth: refresh for user \"%s\" failed, session kept: %s: %s", user,
                          result.error.c_str(), result.description.c_str());
            return add_response_header(r, "Retry-After", "1");
    }
    return true;
}

// The stable error of a failed refresh, as every endpoint reports it.
ErrorReply refresh_error(const Settings& s, spotauth::TokenOutcome outcome) {
    switch (outcome) {
        case spotauth::TokenOutcome::permanent:
            return {NGX_HTTP_UNAUTHORIZED, "refresh_failed",
                    "Spotify no longer accepts this session; sign in again.", s.login_uri};
        case spotauth::TokenOutcome::misconfigured:
            return {NGX_HTTP_BAD_GATEWAY, "token_endpoint_misconfigured",
                    "Sign-in is misconfigured on this site; try again later.", ""};
        default:
            return {NGX_HTTP_SERVICE_UNAVAILABLE, "token_endpoint_unavailable",
                    "Spotify's sign-in service did not answer; try again.", ""};
    }
}

// Access phase: proxy with the new token, or answer the failure.
ngx_int_t apply_refresh(ngx_http_request_t* r, const Settings& s, RequestState* state) {
    if (!absorb_refresh(r, s, state)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const spotauth::TokenOutcome outcome = state->result.outcome;
    if (outcome == spotauth::TokenOutcome::ok) {
        return inject(r, s, state, state->session.access_token);
    }
    if (outcome == spotauth::TokenOutcome::permanent) {
        add_response_header(r, "WWW-Authenticate", "Bearer realm=\"spotauth\"");
    }
    const ErrorReply e = refresh_error(s, outcome);
    return respond_from_access_phase(r, send_body(r, e.status, "application/json",
                                                  spotauth::error_json(e.code, e.description, e.login_url)));
}

void on_refreshed(RequestState* state, const spotauth::RefreshResult& result) {
    state->result = result;
    state->refreshed = true;
    state->waiter = 0;
    state->step = RequestState::Step::ready;
    if (state->in_refresh) {
        return;  // answered at once (from the store): the caller carries on
    }
    ngx_http_request_t* r = state->r;
    ngx_connection_t* c = r->connection;
    r->read_event_handler = ngx_http_block_reading;
    if (state->respond != nullptr) {
        state->step = RequestState::Step::start;
        finish_async(r, state->respond(r, *state->settings, state));
        return;
    }
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}

// Starts or joins the refresh of this request's session. True when its
// result is already in state->result; otherwise on_refreshed resumes the
// request later.
bool begin_refresh(ngx_http_request_t* r, const Settings& s, RequestState* state,
                   std::string stale_access_token) {
    spotauth::RefreshJob job{state->session.refresh_token, std::move(stale_access_token),
                             token_request(s, spotauth::refresh_body(state->session.refresh_token))};
    state->settings = &s;
    state->in_refresh = true;
    state->waiter = worker->refresh.refresh(
        job, [state](const spotauth::RefreshResult& result) { on_refreshed(state, result); });
    state->in_refresh = false;
    if (state->step == RequestState::Step::ready) {
        state->step = RequestState::Step::start;
        return true;
    }
    worker->schedule_poll();
    state->step = RequestState::Step::waiting;
    // Notice a client that gives up while we wait (its waiter is cancelled).
    r->read_event_handler = ngx_http_test_reading;
    return false;
}

ngx_int_t start_refresh(ngx_http_request_t* r, const Settings& s, RequestState* state,
                        std::string stale_access_token) {
    return begin_refresh(r, s, state, std::move(stale_access_token)) ? apply_refresh(r, s, state)
                                                                      : NGX_AGAIN;
}

// Counts and logs a protected request without a usable session; true when
// the request may go on.
bool admit(ngx_http_request_t* r, spotauth::CookieStatus status) {
    switch (status) {
        case spotauth::CookieStatus::valid:
            return true;
        case spotauth::CookieStatus::absent:
            count(spotauth::kRejectedAbsent);
            return false;
        case spotauth::CookieStatus::invalid:
            count(spotauth::kRejectedInvalid);
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: session cookie rejected: invalid");
            return false;
        case spotauth::CookieStatus::expired:
            count(spotauth::kRejectedExpired);
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: session cookie rejected: expired");
            return false;
    }
    return false;
}

ngx_int_t check_session(ngx_http_request_t* r, const Settings& s, RequestState* state) {
    const spotauth::CookieStatus status = load_session(r, s, state);
    if (!admit(r, status)) {
        if (status == spotauth::CookieStatus::absent) {
            return deny(r, s, "not_authenticated", "Sign in with Spotify first.", false);
        }
        if (status == spotauth::CookieStatus::expired) {
            return deny(r, s, "session_expired", "Your session has ended; sign in again.", true);
        }
        return deny(r, s, "not_authenticated", "Your session is not valid; sign in again.", true);
    }
    if (spotauth::needs_refresh(state->session, now(), main_conf_of(r)->refresh_leeway)) {
        return start_refresh(r, s, state, "");
    }
    return inject(r, s, state, state->session.access_token);
}

// Pages (`spotauth redirect`): no session means a trip through the login,
// back to this very URI. The page itself needs no token, so no refresh;
// a proxied page's upstream does not see the module's cookies either.
ngx_int_t check_page(ngx_http_request_t* r, const Settings& s, RequestState* state) {
    const spotauth::CookieStatus status = load_session(r, s, state);
    if (admit(r, status)) {
        return strip_module_cookies(r, s) ? NGX_OK : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (status != spotauth::CookieStatus::absent && !set_cookie(r, s, s.cookies.session, "", 0)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const std::string login = spotauth::append_query(
        s.login_uri, "return_to=" + spotauth::percent_encode(to_view(r->unparsed_uri)));
    return respond_from_access_phase(r, send_redirect(r, login));
}

// The replay location: the upstream refused a token we believed valid.
ngx_int_t replay(ngx_http_request_t* r, const Settings& s, RequestState* state) {
    if (!state->have_session) {
        return deny(r, s, "not_authenticated", "Sign in with Spotify first.", false);
    }
    if (state->replayed || r->request_body_no_buffering) {
        // One replay only; an unbuffered body cannot be sent twice.
        return deny(r, s, "token_rejected", "Spotify refused the access token.", false);
    }
    state->replayed = true;
    return start_refresh(r, s, state, state->sent_token);
}

ngx_int_t protect(ngx_http_request_t* r, ngx_uint_t mode) {
    const Settings& s = *settings_of(r);
    RequestState* state = find_state(r);
    if (state == nullptr && (state = create_state(r)) == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    switch (state->step) {
        case RequestState::Step::waiting:
            return NGX_AGAIN;
        case RequestState::Step::ready:
            state->step = RequestState::Step::start;
            return apply_refresh(r, s, state);
        case RequestState::Step::start:
            break;
    }
    switch (mode) {
        case kProtectRetry: return replay(r, s, state);
        case kProtectRedirect: return check_page(r, s, state);
        default: return check_session(r, s, state);
    }
}

ngx_int_t access_handler(ngx_http_request_t* r) {
    const auto* lcf = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_spotauth_module));
    if (lcf->protect == kProtectOff || settings_of(r) == nullptr || worker == nullptr) {
        return NGX_DECLINED;
    }
    return guarded(r, [r, lcf] { return protect(r, lcf->protect); });
}

// ---------------------------------------------------------------------------
// Frontend endpoints: session info, the Web Playback SDK token, logout

std::string request_header(ngx_http_request_t* r, std::string_view name) {
    ngx_list_part_t* part = &r->headers_in.headers.part;
    for (; part != nullptr; part = part->next) {
        auto* h = static_cast<ngx_table_elt_t*>(part->elts);
        for (ngx_uint_t i = 0; i < part->nelts; ++i) {
            if (h[i].key.len == name.size() &&
                ngx_strncasecmp(h[i].key.data, (u_char*) name.data(), name.size()) == 0) {
                return to_string(h[i].value);
            }
        }
    }
    return {};
}

// Refuses what a browser marks as coming from another site. Sec-Fetch-Site
// is authoritative where sent; Origin (sent on cross-origin fetches and on
// every POST) must name this origin otherwise: scheme (the connection's;
// X-Forwarded-Proto is not trusted), host and port.
bool is_same_origin(ngx_http_request_t* r) {
    const std::string host = r->headers_in.host != nullptr ? to_string(r->headers_in.host->value) : "";
#if (NGX_HTTP_SSL)
    const bool is_https = r->connection->ssl != nullptr;
#else
    const bool is_https = false;
#endif
    return spotauth::is_same_origin_request(request_header(r, "Sec-Fetch-Site"),
                                            request_header(r, "Origin"), host, is_https);
}

ngx_int_t send_json(ngx_http_request_t* r, ngx_uint_t status, const std::string& body) {
    return send_body(r, status, "application/json", body);
}

struct OpenedRequest {
    RequestState* state = nullptr;
    spotauth::CookieStatus status = spotauth::CookieStatus::absent;
};

// Reads the session cookie of a content-handler request into a new state;
// a cookie that is present but unusable is cleared in the response.
OpenedRequest open_request_session(ngx_http_request_t* r, const Settings& s) {
    OpenedRequest out;
    out.state = create_state(r);
    if (out.state == nullptr) {
        return out;
    }
    out.status = load_session(r, s, out.state);
    if (out.status != spotauth::CookieStatus::valid && out.status != spotauth::CookieStatus::absent) {
        set_cookie(r, s, s.cookies.session, "", 0);
    }
    return out;
}

using Responder = ngx_int_t (*)(ngx_http_request_t*, const Settings&, RequestState*);

// Calls `respond` once the session's access token is fresh (or its refresh
// has failed, which `respond` reads from state->result).
ngx_int_t respond_when_fresh(ngx_http_request_t* r, const Settings& s, RequestState* state,
                             Responder respond) {
    if (!spotauth::needs_refresh(state->session, now(), main_conf_of(r)->refresh_leeway)) {
        return respond(r, s, state);
    }
    state->respond = respond;
    if (begin_refresh(r, s, state, "")) {
        return respond(r, s, state);
    }
    r->main->count++;
    return NGX_DONE;
}

bool refresh_failed(ngx_http_request_t* r, const Settings& s, RequestState* state, bool& ok) {
    ok = true;
    if (!state->refreshed) {
        return false;
    }
    ok = absorb_refresh(r, s, state);
    return state->result.outcome != spotauth::TokenOutcome::ok;
}

ngx_int_t respond_session(ngx_http_request_t* r, const Settings& s, RequestState* state) {
    bool ok = true;
    const bool failed = refresh_failed(r, s, state, ok);
    if (!ok) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const bool ended = failed && state->result.outcome == spotauth::TokenOutcome::permanent;
    const std::string error = failed ? refresh_error(s, state->result.outcome).code : "";
    return send_json(r, NGX_HTTP_OK,
                     ended ? spotauth::session_json(nullptr, error)
                           : spotauth::session_json(&state->session, error));
}

ngx_int_t session_endpoint(ngx_http_request_t* r) {
    const Settings& s = *settings_of(r);
    const OpenedRequest opened = open_request_session(r, s);
    if (opened.state == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!opened.state->have_session) {
        return send_json(r, NGX_HTTP_OK, spotauth::session_json(nullptr, ""));
    }
    return respond_when_fresh(r, s, opened.state, &respond_session);
}

ngx_int_t respond_token(ngx_http_request_t* r, const Settings& s, RequestState* state) {
    bool ok = true;
    const bool failed = refresh_failed(r, s, state, ok);
    if (!ok) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (failed) {
        const ErrorReply e = refresh_error(s, state->result.outcome);
        return send_json(r, e.status, spotauth::token_error_json(e.code));
    }
    return send_json(r, NGX_HTTP_OK, spotauth::token_json(state->session, now()));
}

ngx_int_t token_endpoint(ngx_http_request_t* r) {
    const Settings& s = *settings_of(r);
    if (!is_same_origin(r)) {
        return send_json(r, NGX_HTTP_FORBIDDEN, spotauth::token_error_json("cross_site_request"));
    }
    const OpenedRequest opened = open_request_session(r, s);
    if (opened.state == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!opened.state->have_session) {
        return send_json(r, NGX_HTTP_UNAUTHORIZED, spotauth::token_error_json("not_authenticated"));
    }
    return respond_when_fresh(r, s, opened.state, &respond_token);
}

// A navigation (an HTML form) is sent back to a page; fetch gets 204.
bool is_navigation(ngx_http_request_t* r) {
    const std::string mode = request_header(r, "Sec-Fetch-Mode");
    return mode.empty() ? spotauth::prefers_html(accept_header(r)) : mode == "navigate";
}

ngx_int_t logout_endpoint(ngx_http_request_t* r) {
    const Settings& s = *settings_of(r);
    if (!is_same_origin(r)) {
        return send_error(r, {NGX_HTTP_FORBIDDEN, "cross_site_request",
                              "Logout must come from this site.", ""});
    }
    if (!set_cookie(r, s, s.cookies.session, "", 0) || !set_cookie(r, s, s.cookies.login, "", 0)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (is_navigation(r)) {
        return send_redirect(r, spotauth::safe_return_to(query_arg(r, "return_to").value_or("")));
    }
    return send_body(r, NGX_HTTP_NO_CONTENT, "text/plain", "");
}

// ---------------------------------------------------------------------------
// Variables and metrics

enum VariableKind : uintptr_t { kVarUser, kVarUserName, kVarStatus, kVarAccessToken };

// The request's state, reading the session cookie on first use when no
// spotauth handler has (e.g. for log_format in an unprotected location).
RequestState* state_for_variables(ngx_http_request_t* r) {
    RequestState* state = find_state(r);
    const Settings* s = settings_of(r);
    if (state == nullptr && s != nullptr) {
        state = create_state(r);
    }
    if (state != nullptr && !state->loaded && s != nullptr) {
        load_session(r, *s, state);
    }
    return state;
}

std::string variable_value(const RequestState* state, uintptr_t kind) {
    const SessionStatus status = state != nullptr ? state->status : SessionStatus::none;
    if (kind == kVarStatus) {
        return status_name(status);
    }
    if (state == nullptr || !state->have_session) {
        return {};
    }
    switch (kind) {
        case kVarUser: return state->session.user_id;
        case kVarUserName: return state->session.display_name;
        case kVarAccessToken:
            return status == SessionStatus::valid || status == SessionStatus::refreshed
                       ? state->session.access_token
                       : std::string();
        default: return {};
    }
}

ngx_int_t get_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t kind) {
    try {
        const std::string value = variable_value(state_for_variables(r), kind);
        v->no_cacheable = 1;  // a refresh later in the request changes it
        if (value.empty()) {
            v->not_found = 1;
            return NGX_OK;
        }
        const ngx_str_t copy = to_ngx(r->pool, value);
        if (copy.data == nullptr) {
            return NGX_ERROR;
        }
        v->data = copy.data;
        v->len = static_cast<unsigned>(copy.len);
        v->valid = 1;
        v->not_found = 0;
        return NGX_OK;
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "spotauth: variable failed: %s", e.what());
        return NGX_ERROR;
    }
}

ngx_http_variable_t variables[] = {
    {ngx_string("spotauth_user"), nullptr, get_variable, kVarUser, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("spotauth_user_name"), nullptr, get_variable, kVarUserName, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("spotauth_session_status"), nullptr, get_variable, kVarStatus, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("spotauth_access_token"), nullptr, get_variable, kVarAccessToken, NGX_HTTP_VAR_NOCACHEABLE, 0},
    ngx_http_null_variable};

ngx_int_t status_endpoint(ngx_http_request_t* r) {
    if (worker == nullptr) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    return send_body(r, NGX_HTTP_OK, "text/plain; version=0.0.4",
                     spotauth::prometheus_text(worker->counters.snapshot()));
}

// Adds the refreshed session cookie to whatever the upstream answered.
ngx_http_output_header_filter_pt next_header_filter;

ngx_int_t header_filter(ngx_http_request_t* r) {
    if (r == r->main) {
        auto* state = static_cast<RequestState*>(ngx_http_get_module_ctx(r, ngx_http_spotauth_module));
        if (state != nullptr && !state->set_cookie.empty()) {
            const std::string value = std::move(state->set_cookie);
            state->set_cookie.clear();
            if (!add_response_header(r, "Set-Cookie", value)) {
                return NGX_ERROR;
            }
        }
    }
    return next_header_filter(r);
}

// ---------------------------------------------------------------------------
// Configuration: directives, create/merge, checks

void* create_srv_conf(ngx_conf_t* cf) {
    auto* conf = static_cast<SrvConf*>(ngx_pcalloc(cf->pool, sizeof(SrvConf)));
    if (conf == nullptr) {
        return nullptr;
    }
    conf->key_files = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
    conf->cookie_secure = NGX_CONF_UNSET;
    conf->connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->session_lifetime = NGX_CONF_UNSET;
    conf->used = NGX_CONF_UNSET;
    conf->has_login = NGX_CONF_UNSET;
    conf->protects = NGX_CONF_UNSET;
    return conf;
}

void* create_main_conf(ngx_conf_t* cf) {
    auto* conf = static_cast<MainConf*>(ngx_pcalloc(cf->pool, sizeof(MainConf)));
    if (conf == nullptr) {
        return nullptr;
    }
    conf->refresh_leeway = NGX_CONF_UNSET;
    conf->refresh_cache = NGX_CONF_UNSET_MSEC;
    return conf;
}

char* init_main_conf(ngx_conf_t*, void* data) {
    auto* conf = static_cast<MainConf*>(data);
    ngx_conf_init_value(conf->refresh_leeway, 60);
    ngx_conf_init_msec_value(conf->refresh_cache, 30000);
    if (!conf->exchange_limits_set) {
        conf->exchange_limits = kDefaultExchangeLimits;
    }
    return NGX_CONF_OK;
}

void* create_loc_conf(ngx_conf_t* cf) {
    auto* conf = static_cast<LocConf*>(ngx_pcalloc(cf->pool, sizeof(LocConf)));
    if (conf == nullptr) {
        return nullptr;
    }
    conf->protect = NGX_CONF_UNSET_UINT;
    return conf;
}

char* merge_loc_conf(ngx_conf_t*, void* parent, void* child) {
    auto* prev = static_cast<LocConf*>(parent);
    auto* conf = static_cast<LocConf*>(child);
    ngx_conf_merge_uint_value(conf->protect, prev->protect, kProtectOff);
    return NGX_CONF_OK;
}

Expected<std::string> read_config_file(ngx_conf_t* cf, ngx_str_t path) {
    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return Expected<std::string>::failure("cannot be resolved");
    }
    std::ifstream in(to_string(path), std::ios::binary);
    if (!in) {
        return Expected<std::string>::failure(std::string("cannot be read: ") + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

char* conf_error(ngx_conf_t* cf, const std::string& message) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", message.c_str());
    return static_cast<char*>(NGX_CONF_ERROR);
}

std::string quoted(const ngx_str_t& s) { return "\"" + to_string(s) + "\""; }

// Reads and checks everything a server with spotauth locations needs;
// returns an error message naming the directive to fix, or "".
std::string load_settings(ngx_conf_t* cf, SrvConf* conf, Settings& s) {
    if (conf->client_id.len == 0) {
        return "spotauth: \"spotauth_client_id\" is required where spotauth_login, "
               "spotauth_callback or \"spotauth on\" is used";
    }
    if (conf->client_secret_file.len == 0) {
        return "spotauth: \"spotauth_client_secret_file\" is required: a file holding the "
               "Spotify app's client secret";
    }
    const auto secret = read_config_file(cf, conf->client_secret_file);
    if (!secret) {
        return "spotauth: spotauth_client_secret_file " + quoted(conf->client_secret_file) + " " +
               secret.error();
    }
    std::string secret_text = *secret;
    while (!secret_text.empty() && std::isspace(static_cast<unsigned char>(secret_text.back()))) {
        secret_text.pop_back();
    }
    if (secret_text.empty()) {
        return "spotauth: spotauth_client_secret_file " + quoted(conf->client_secret_file) + " is empty";
    }
    if (conf->key_files == nullptr || conf->key_files->nelts == 0) {
        return "spotauth: \"spotauth_key_file\" is required; create one with "
               "\"openssl rand -base64 32 > /etc/nginx/spotauth.key\"";
    }
    std::vector<spotauth::Key> keys;
    const auto* paths = static_cast<ngx_str_t*>(conf->key_files->elts);
    for (ngx_uint_t i = 0; i < conf->key_files->nelts; ++i) {
        const auto text = read_config_file(cf, paths[i]);
        const auto key = text ? spotauth::parse_key_file(*text) : Expected<spotauth::Key>::failure(text.error());
        if (!key) {
            return "spotauth: spotauth_key_file " + quoted(paths[i]) + " " + key.error();
        }
        keys.push_back(*key);
    }
    if (conf->redirect_uri.len == 0) {
        return "spotauth: \"spotauth_redirect_uri\" is required: the absolute URL of the "
               "spotauth_callback location, as registered with Spotify";
    }
    const std::pair<const char*, const ngx_str_t*> urls[] = {
        {"spotauth_redirect_uri", &conf->redirect_uri},
        {"spotauth_authorize_url", &conf->authorize_url},
        {"spotauth_token_url", &conf->token_url},
        {"spotauth_api_url", &conf->api_url}};
    for (const auto& [directive, url] : urls) {
        if (const auto problem = spotauth::check_http_url(to_view(*url))) {
            return std::string("spotauth: ") + directive + " " + quoted(*url) + " " + *problem;
        }
    }
    s.client = {to_string(conf->client_id),     secret_text,
                to_string(conf->redirect_uri),  to_string(conf->scopes),
                to_string(conf->authorize_url), to_string(conf->token_url),
                to_string(conf->api_url)};
    s.keys = spotauth::KeyRing(std::move(keys));
    s.secure_cookies = conf->cookie_secure != 0;
    s.cookies = spotauth::cookie_names(s.secure_cookies);
    s.connect_timeout_ms = static_cast<long>(conf->connect_timeout);
    s.timeout_ms = static_cast<long>(conf->timeout);
    s.session_lifetime = conf->session_lifetime;
    s.login_uri = to_string(conf->login_uri);
    s.ca_file = to_string(conf->ca_file);
    return {};
}

void delete_settings(void* data) { delete static_cast<Settings*>(data); }

char* merge_srv_conf(ngx_conf_t* cf, void* parent, void* child) {
    auto* prev = static_cast<SrvConf*>(parent);
    auto* conf = static_cast<SrvConf*>(child);
    ngx_conf_merge_str_value(conf->client_id, prev->client_id, "");
    ngx_conf_merge_str_value(conf->client_secret_file, prev->client_secret_file, "");
    ngx_conf_merge_ptr_value(conf->key_files, prev->key_files, nullptr);
    ngx_conf_merge_str_value(conf->redirect_uri, prev->redirect_uri, "");
    ngx_conf_merge_str_value(conf->scopes, prev->scopes, "user-read-email");
    ngx_conf_merge_str_value(conf->authorize_url, prev->authorize_url,
                             "https://accounts.spotify.com/authorize");
    ngx_conf_merge_str_value(conf->token_url, prev->token_url, "https://accounts.spotify.com/api/token");
    ngx_conf_merge_str_value(conf->api_url, prev->api_url, "https://api.spotify.com");
    ngx_conf_merge_str_value(conf->ca_file, prev->ca_file, "");
    ngx_conf_merge_value(conf->cookie_secure, prev->cookie_secure, 1);
    ngx_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout, 5000);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 10000);
    ngx_conf_merge_sec_value(conf->session_lifetime, prev->session_lifetime, 30 * 86400);
    ngx_conf_merge_str_value(conf->login_uri, prev->login_uri, "/auth/login");
    ngx_conf_merge_value(conf->used, prev->used, 0);
    ngx_conf_merge_value(conf->has_login, prev->has_login, 0);
    ngx_conf_merge_value(conf->protects, prev->protects, 0);
    if (!conf->used) {
        return NGX_CONF_OK;
    }
    if (conf->protects && !conf->has_login) {
        return conf_error(cf, "spotauth: \"spotauth on\" and \"spotauth redirect\" need a "
                              "\"location = /auth/login { spotauth_login; }\" in the same server: "
                              "their 401 answers and redirects point to it");
    }
    try {
        auto settings = std::make_unique<Settings>();
        const std::string problem = load_settings(cf, conf, *settings);
        if (!problem.empty()) {
            return conf_error(cf, problem);
        }
        if (settings->secure_cookies && to_view(conf->redirect_uri).rfind("http://", 0) == 0) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "spotauth: spotauth_redirect_uri is http:// but spotauth_cookie_secure "
                               "is on; browsers only keep Secure cookies from https sites (use "
                               "\"spotauth_cookie_secure off\" for plain-http local testing)");
        }
        ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(cf->pool, 0);
        if (cleanup == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        conf->settings = settings.release();
        cleanup->handler = &delete_settings;
        cleanup->data = conf->settings;
    } catch (const std::exception& e) {
        return conf_error(cf, std::string("spotauth: ") + e.what());
    }
    return NGX_CONF_OK;
}

SrvConf* enclosing_srv_conf(ngx_conf_t* cf) {
    return static_cast<SrvConf*>(ngx_http_conf_get_module_srv_conf(cf, ngx_http_spotauth_module));
}

// Records that this server (and so the http block) needs the settings.
void mark_used(ngx_conf_t* cf) {
    enclosing_srv_conf(cf)->used = 1;
    static_cast<MainConf*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_spotauth_module))->used = 1;
}

char* set_endpoint(ngx_conf_t* cf, ngx_http_handler_pt handler) {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    if (clcf->handler != nullptr) {
        return (char*) "is duplicate: this location already has a content handler";
    }
    clcf->handler = handler;
    mark_used(cf);
    return NGX_CONF_OK;
}

char* set_login(ngx_conf_t* cf, ngx_command_t*, void*) {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
#if (NGX_PCRE)
    if (clcf->regex != nullptr) {
        return (char*) "must be in a location with a plain path (for example \"location = /auth/login\"), "
                       "so that 401 answers can point to it";
    }
#endif
    enclosing_srv_conf(cf)->login_uri = clcf->name;
    enclosing_srv_conf(cf)->has_login = 1;
    return set_endpoint(cf, &endpoint_handler<&login>);
}

char* set_callback(ngx_conf_t* cf, ngx_command_t*, void*) { return set_endpoint(cf, &endpoint_handler<&callback>); }

char* set_session(ngx_conf_t* cf, ngx_command_t*, void*) {
    return set_endpoint(cf, &endpoint_handler<&session_endpoint>);
}

char* set_token(ngx_conf_t* cf, ngx_command_t*, void*) {
    return set_endpoint(cf, &endpoint_handler<&token_endpoint>);
}

char* set_logout(ngx_conf_t* cf, ngx_command_t*, void*) {
    return set_endpoint(cf, &endpoint_handler<&logout_endpoint, NGX_HTTP_POST>);
}

// Metrics need the shared zone but no OAuth settings.
char* set_status(ngx_conf_t* cf, ngx_command_t*, void*) {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    if (clcf->handler != nullptr) {
        return (char*) "is duplicate: this location already has a content handler";
    }
    clcf->handler = &endpoint_handler<&status_endpoint>;
    static_cast<MainConf*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_spotauth_module))->used = 1;
    return NGX_CONF_OK;
}

ngx_conf_enum_t protect_modes[] = {{ngx_string("off"), kProtectOff},
                                    {ngx_string("on"), kProtectOn},
                                    {ngx_string("retry"), kProtectRetry},
                                    {ngx_string("redirect"), kProtectRedirect},
                                    {ngx_null_string, 0}};

char* set_protect(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
    char* rv = ngx_conf_set_enum_slot(cf, cmd, conf);
    if (rv == NGX_CONF_OK && static_cast<LocConf*>(conf)->protect != kProtectOff) {
        mark_used(cf);
        enclosing_srv_conf(cf)->protects = 1;
    }
    return rv;
}

constexpr std::size_t kMinZoneSize = 64 * 1024;

ngx_shm_zone_t* add_refresh_zone(ngx_conf_t* cf, ngx_str_t name, ssize_t size) {
    ngx_shm_zone_t* zone = ngx_shared_memory_add(cf, &name, static_cast<size_t>(size), &ngx_http_spotauth_module);
    if (zone != nullptr) {
        zone->init = spotauth_ngx::init_zone;
    }
    return zone;
}

// spotauth_zone name:size
char* set_zone(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* mcf = static_cast<MainConf*>(conf);
    if (mcf->zone != nullptr) {
        return (char*) "is duplicate";
    }
    const ngx_str_t arg = static_cast<ngx_str_t*>(cf->args->elts)[1];
    const auto* colon = static_cast<u_char*>(ngx_strlchr(arg.data, arg.data + arg.len, ':'));
    if (colon == nullptr || colon == arg.data) {
        return (char*) "must be name:size, for example \"spotauth:1m\"";
    }
    ngx_str_t name{static_cast<size_t>(colon - arg.data), arg.data};
    ngx_str_t size_text{arg.len - name.len - 1, const_cast<u_char*>(colon) + 1};
    const ssize_t size = ngx_parse_size(&size_text);
    if (size == NGX_ERROR || static_cast<size_t>(size) < kMinZoneSize) {
        return (char*) "has an invalid size: use at least 64k, for example \"spotauth:1m\"";
    }
    mcf->zone = add_refresh_zone(cf, name, size);
    return mcf->zone != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

// spotauth_exchange_limit per_address per_worker (code exchanges per minute)
char* set_exchange_limit(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* mcf = static_cast<MainConf*>(conf);
    if (mcf->exchange_limits_set) {
        return (char*) "is duplicate";
    }
    const auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    const ngx_int_t per_address = ngx_atoi(args[1].data, args[1].len);
    const ngx_int_t in_total = ngx_atoi(args[2].data, args[2].len);
    if (per_address <= 0 || in_total <= 0 || per_address > 1000000 || in_total > 1000000) {
        return (char*) "takes two positive numbers of code exchanges per minute: per client "
                       "address and per worker, for example \"spotauth_exchange_limit 20 600\"";
    }
    mcf->exchange_limits = {static_cast<std::uint32_t>(per_address), static_cast<std::uint32_t>(in_total)};
    mcf->exchange_limits_set = 1;
    return NGX_CONF_OK;
}

char* add_key_file(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* scf = static_cast<SrvConf*>(conf);
    if (scf->key_files == NGX_CONF_UNSET_PTR) {
        scf->key_files = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (scf->key_files == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    auto* path = static_cast<ngx_str_t*>(ngx_array_push(scf->key_files));
    if (path == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    *path = static_cast<ngx_str_t*>(cf->args->elts)[1];
    return NGX_CONF_OK;
}

constexpr ngx_uint_t kMainOrSrv = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF;
constexpr ngx_uint_t kAnyLevel = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

#define SPOTAUTH_SRV_SLOT(directive, setter, field)                                         \
    {ngx_string(directive), kMainOrSrv | NGX_CONF_TAKE1, setter, NGX_HTTP_SRV_CONF_OFFSET, \
     offsetof(SrvConf, field), nullptr}

ngx_command_t commands[] = {
    SPOTAUTH_SRV_SLOT("spotauth_client_id", ngx_conf_set_str_slot, client_id),
    SPOTAUTH_SRV_SLOT("spotauth_client_secret_file", ngx_conf_set_str_slot, client_secret_file),
    SPOTAUTH_SRV_SLOT("spotauth_key_file", add_key_file, key_files),
    SPOTAUTH_SRV_SLOT("spotauth_redirect_uri", ngx_conf_set_str_slot, redirect_uri),
    SPOTAUTH_SRV_SLOT("spotauth_scopes", ngx_conf_set_str_slot, scopes),
    SPOTAUTH_SRV_SLOT("spotauth_authorize_url", ngx_conf_set_str_slot, authorize_url),
    SPOTAUTH_SRV_SLOT("spotauth_token_url", ngx_conf_set_str_slot, token_url),
    SPOTAUTH_SRV_SLOT("spotauth_api_url", ngx_conf_set_str_slot, api_url),
    SPOTAUTH_SRV_SLOT("spotauth_ca_file", ngx_conf_set_str_slot, ca_file),
    {ngx_string("spotauth_cookie_secure"), kMainOrSrv | NGX_CONF_FLAG, ngx_conf_set_flag_slot,
     NGX_HTTP_SRV_CONF_OFFSET, offsetof(SrvConf, cookie_secure), nullptr},
    SPOTAUTH_SRV_SLOT("spotauth_connect_timeout", ngx_conf_set_msec_slot, connect_timeout),
    SPOTAUTH_SRV_SLOT("spotauth_timeout", ngx_conf_set_msec_slot, timeout),
    SPOTAUTH_SRV_SLOT("spotauth_session_lifetime", ngx_conf_set_sec_slot, session_lifetime),
    {ngx_string("spotauth"), kAnyLevel | NGX_CONF_TAKE1, set_protect, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, protect), protect_modes},
    {ngx_string("spotauth_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, set_zone, NGX_HTTP_MAIN_CONF_OFFSET,
     0, nullptr},
    {ngx_string("spotauth_refresh_leeway"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, refresh_leeway), nullptr},
    {ngx_string("spotauth_refresh_cache"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, refresh_cache), nullptr},
    {ngx_string("spotauth_exchange_limit"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE2, set_exchange_limit,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("spotauth_login"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_login, 0, 0, nullptr},
    {ngx_string("spotauth_callback"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_callback, 0, 0, nullptr},
    {ngx_string("spotauth_session"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_session, 0, 0, nullptr},
    {ngx_string("spotauth_token"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_token, 0, 0, nullptr},
    {ngx_string("spotauth_logout"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_logout, 0, 0, nullptr},
    {ngx_string("spotauth_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_status, 0, 0, nullptr},
    ngx_null_command};

#undef SPOTAUTH_SRV_SLOT

ngx_int_t preconfiguration(ngx_conf_t* cf) {
    for (ngx_http_variable_t* v = variables; v->name.len != 0; ++v) {
        ngx_http_variable_t* var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == nullptr) {
            return NGX_ERROR;
        }
        var->get_handler = v->get_handler;
        var->data = v->data;
    }
    return NGX_OK;
}

ngx_int_t postconfiguration(ngx_conf_t* cf) {
    auto* mcf = static_cast<MainConf*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_spotauth_module));
    if (mcf->used && mcf->zone == nullptr) {
        // No spotauth_zone: workers still need one place to coordinate.
        ngx_str_t name = ngx_string("spotauth");
        mcf->zone = add_refresh_zone(cf, name, 1024 * 1024);
        if (mcf->zone == nullptr) {
            return NGX_ERROR;
        }
    }
    next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = header_filter;
    auto* cmcf = static_cast<ngx_http_core_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto* h = static_cast<ngx_http_handler_pt*>(
        ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    *h = access_handler;
    return NGX_OK;
}

ngx_int_t init_process(ngx_cycle_t* cycle) {
    const auto* mcf = static_cast<MainConf*>(ngx_http_cycle_get_module_main_conf(cycle, ngx_http_spotauth_module));
    if (mcf == nullptr || mcf->zone == nullptr) {
        return NGX_OK;  // no http block or no spotauth location: nothing to run
    }
    spotauth::RefreshTiming timing;
    timing.leeway = mcf->refresh_leeway;
    timing.cache_window = static_cast<spotauth::MilliTime>(mcf->refresh_cache);
    try {
        worker = new Worker(cycle->log, mcf->zone, timing, mcf->exchange_limits);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "spotauth: cannot start: %s", e.what());
        return NGX_ERROR;
    }
    return NGX_OK;
}

void exit_process(ngx_cycle_t*) {
    delete worker;
    worker = nullptr;
}

ngx_http_module_t module_ctx = {
    preconfiguration,   // preconfiguration
    postconfiguration,  // postconfiguration
    create_main_conf,   // create main configuration
    init_main_conf,     // init main configuration
    create_srv_conf,    // create server configuration
    merge_srv_conf,     // merge server configuration
    create_loc_conf,    // create location configuration
    merge_loc_conf      // merge location configuration
};

}  // namespace

extern "C" {
ngx_module_t ngx_http_spotauth_module = {
    NGX_MODULE_V1,
    &module_ctx,        // module context
    commands,           // module directives
    NGX_HTTP_MODULE,    // module type
    nullptr,            // init master
    nullptr,            // init module
    init_process,       // init process
    nullptr,            // init thread
    nullptr,            // exit thread
    exit_process,       // exit process
    nullptr,            // exit master
    NGX_MODULE_V1_PADDING};
}
