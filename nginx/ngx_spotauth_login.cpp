// Signing in: /auth/login sends the browser to the provider with a fresh
// state and PKCE challenge, in a login cookie of its own (one per login in
// progress, so that two tabs can sign in at once) and nothing on the
// server; /auth/callback checks the state against that cookie, spends it
// (so it is used once), exchanges the code, reads the profile and sets the
// session cookie.
#include "ngx_spotauth_endpoints.hpp"

#include "ngx_spotauth_reply.hpp"
#include "ngx_spotauth_request.hpp"
#include "ngx_spotauth_worker.hpp"

#include "spotauth/crypto.hpp"
#include "spotauth/errors.hpp"
#include "spotauth/http_client.hpp"
#include "spotauth/oauth.hpp"
#include "spotauth/session_cookie.hpp"
#include "spotauth/url.hpp"

namespace spotauth_ngx {
namespace {

using spotauth::Failure;
using spotauth::HttpResponse;

constexpr time_t kLoginTtlSeconds = 600;

// One callback between its code exchange and its answer, owned by the
// request's pool: a client that goes away cancels the transfer in flight.
struct Callback {
    Callback(ngx_http_request_t* request, const Settings& s, spotauth::LoginTransaction transaction)
        : r(request), settings(s), login(std::move(transaction)) {}
    ~Callback() {
        if (worker() == nullptr) {
            return;
        }
        if (transfer != 0) {
            worker()->client().cancel(transfer);
        }
        worker()->cancel_login_spend(state_spend);
    }
    Callback(const Callback&) = delete;
    Callback& operator=(const Callback&) = delete;

    ngx_http_request_t* r;
    const Settings& settings;
    spotauth::LoginTransaction login;
    std::string code;
    spotauth::TokenResponse tokens;
    spotauth::HttpClient::TransferId transfer = 0;
    spotauth::RedisCommands::CommandId state_spend = 0;  // Redis's answer on the login state, awaited
};

const char* outcome_name(spotauth::TokenOutcome outcome) {
    switch (outcome) {
        case spotauth::TokenOutcome::ok: return "ok";
        case spotauth::TokenOutcome::permanent: return "permanent";
        case spotauth::TokenOutcome::transient: return "transient";
        case spotauth::TokenOutcome::misconfigured: return "misconfigured";
    }
    return "unknown";
}

// A sign-in that fails before the code exchange; a page's login link
// comes back to `return_to` (the login cookie's, when it could be read).
ngx_int_t refuse(ngx_http_request_t* r, const Settings& s, Failure failure, std::string_view return_to = {}) {
    count(spotauth::kLoginsFailed);
    return send_error(r, s, failure, return_to);
}

// A sign-in that fails after it: the request was parked.
void finish_failed(Callback& cb, Failure failure) {
    count(spotauth::kLoginsFailed);
    cb.transfer = 0;
    finish_parked(cb.r, send_error(cb.r, cb.settings, failure, cb.login.return_to));
}

// Runs a transfer's completion for a parked callback; an exception ends
// that request alone.
template <typename Step>
void completing(Callback* cb, Step&& step) noexcept {
    ngx_http_request_t* r = cb->r;
    try {
        step();
    } catch (...) {
        log_escaped_exception(r->connection->log, "a sign-in callback");
        finish_parked(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

void on_profile(Callback& cb, const HttpResponse& res) {
    ngx_http_request_t* r = cb.r;
    const Settings& s = cb.settings;
    const auto profile = spotauth::parse_profile(res.status, res.body, s.client.profile_claims);
    if (!profile) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "spotauth: login failed: profile request answered HTTP %l %s",
                      res.status, res.error.c_str());
        finish_failed(cb, Failure::profile_unavailable);
        return;
    }
    const spotauth::Session session = spotauth::new_session(*profile, cb.tokens, now(), s.session_lifetime);
    // The callback location's rules: a refused user gets no session at all.
    const spotauth::Authorization authorization = spotauth::authorize(access_rules_of(r), session);
    if (authorization != spotauth::Authorization::allowed) {
        // An unknown product at login is the provider's or the scopes' fault.
        const bool unknown = authorization == spotauth::Authorization::product_unknown;
        const ngx_uint_t level = unknown ? NGX_LOG_WARN : NGX_LOG_INFO;
        ngx_log_error(level, r->connection->log, 0, "spotauth: login refused for user \"%s\": %s%s",
                      profile->id.c_str(), spotauth::authorization_name(authorization),
                      unknown ? " (/v1/me did not say it; is user-read-private in spotauth_scopes?)" : "");
        finish_failed(cb, Failure::forbidden);
        return;
    }
    const spotauth::SessionCookie cookie =
        spotauth::session_set_cookie(s.keys, session, s.cookies.session, {s.secure_cookies, s.session_lifetime});
    if (cookie.problem == spotauth::SessionCookieProblem::too_large) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "spotauth: login failed for user \"%s\": session cookie of %uz bytes exceeds %uz even "
                      "without the display name",
                      profile->id.c_str(), cookie.untrimmed_bytes, spotauth::kMaxSetCookieBytes);
        finish_failed(cb, Failure::session_too_large);
        return;
    }
    if (cookie.problem != spotauth::SessionCookieProblem::none ||
        !add_response_header(r, "Set-Cookie", cookie.set_cookie)) {
        cb.transfer = 0;
        finish_parked(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    count(spotauth::kLoginsOk);
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: login ok for user \"%s\"", profile->id.c_str());
    cb.transfer = 0;
    finish_parked(r, send_redirect(r, cb.login.return_to));
}

void on_code_exchanged(Callback& cb, const HttpResponse& res) {
    worker()->counters().add_latency(res.total_seconds);
    cb.tokens = spotauth::parse_token_response(res.status, res.body);
    if (cb.tokens.outcome != spotauth::TokenOutcome::ok) {
        const std::string why = res.status == 0 ? res.error : cb.tokens.description;
        ngx_log_error(NGX_LOG_ERR, cb.r->connection->log, 0, "spotauth: login failed: code exchange %s (%s): %s",
                      outcome_name(cb.tokens.outcome), cb.tokens.error.c_str(), why.c_str());
        finish_failed(cb, Failure::code_exchange_failed);
        return;
    }
    Callback* p = &cb;
    cb.transfer = worker()->client().start(
        spotauth::profile_request(cb.settings.client, cb.settings.limits, cb.tokens.access_token),
        [p](const HttpResponse& profile) { completing(p, [&] { on_profile(*p, profile); }); });
    if (cb.transfer == 0) {
        finish_parked(cb.r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

// Whether this callback may spend a code exchange: its state matches the
// login cookie and has not been used, within spotauth_exchange_limit.
// Answers the request when not (returns the answer's status).
std::optional<ngx_int_t> check_callback(ngx_http_request_t* r, const Settings& s, const std::string& state,
                                        const std::optional<spotauth::LoginTransaction>& login) {
    if (!login || !spotauth::constant_time_equal(state, login->state)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: login rejected: %s",
                      login ? "state mismatch" : "no valid login cookie");
        return refuse(r, s, Failure::state_mismatch);
    }
    if (const spotauth::MilliTime wait = worker()->exchange_wait(to_view(r->connection->addr_text))) {
        count(spotauth::kCodeExchangesLimited);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "spotauth: login refused before the code exchange: spotauth_exchange_limit reached");
        if (!add_response_header(r, "Retry-After", std::to_string((wait + 999) / 1000))) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return refuse(r, s, Failure::exchanges_limited, login->return_to);
    }
    return std::nullopt;
}

void log_replay(ngx_http_request_t* r) {
    count(spotauth::kLoginReplays);
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: login rejected: state already used");
}

// False when the transfer could not start.
bool exchange_code(Callback* cb) {
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, cb->r->connection->log, 0,
                   "spotauth: callback state used up, exchanging the code");
    const Settings& s = cb->settings;
    cb->transfer = worker()->client().start(
        spotauth::token_request(s.client, s.limits,
                                spotauth::code_exchange_body(s.client, cb->code, cb->login.code_verifier)),
        [cb](const HttpResponse& res) { completing(cb, [&] { on_code_exchanged(*cb, res); }); });
    return cb->transfer != 0;
}

// The fleet's answer on the login state, for a parked callback.
void on_state_spent(Callback* cb, bool fresh) {
    if (!fresh) {
        log_replay(cb->r);
        finish_failed(*cb, Failure::state_used);
        return;
    }
    if (!exchange_code(cb)) {
        finish_parked(cb->r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

}  // namespace

ngx_int_t login_endpoint(ngx_http_request_t* r, const Settings& s) {
    const auto state = spotauth::random_token();
    const auto verifier = spotauth::random_token();
    if (!state || !verifier) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const std::string return_to = spotauth::login_return_to(query_arg(r, "return_to").value_or(""));
    const auto login_cookie = spotauth::login_set_cookie(
        s.keys, {*state, *verifier, return_to, now() + kLoginTtlSeconds},
        spotauth::login_cookie_name(s.cookies, *state), {s.secure_cookies, kLoginTtlSeconds});
    if (!login_cookie) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    // At most kMaxPendingLogins per browser: the oldest give way.
    for (const std::string& oldest : spotauth::login_cookies_to_clear(login_cookie_names(r, s))) {
        if (!clear_cookie(r, s, oldest)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (!add_response_header(r, "Set-Cookie", *login_cookie)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const auto choice = spotauth::account_choice(query_arg(r, spotauth::kSwitchAccountParameter));
    return send_redirect(r, spotauth::authorize_url(s.client, *state, spotauth::pkce_challenge(*verifier), choice));
}

ngx_int_t callback_endpoint(ngx_http_request_t* r, const Settings& s) {
    // The state names this login's cookie (other logins keep theirs); the
    // login transaction is single-use, whatever happens next.
    const std::string state = decoded_arg(r, "state");
    const std::string login_cookie = spotauth::login_cookie_name(s.cookies, state);
    if (!clear_cookie(r, s, login_cookie)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const auto login = spotauth::open_login(s.keys, cookie_value(r, login_cookie), now());
    const std::string provider_error = decoded_arg(r, "error");
    if (!provider_error.empty()) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "spotauth: login refused by provider: %s",
                      spotauth::percent_encode(provider_error).c_str());
        // Only a login of this browser's says where to come back to.
        const bool ours = login && spotauth::constant_time_equal(state, login->state);
        return refuse(r, s, spotauth::provider_refusal(provider_error), ours ? login->return_to : "");
    }
    if (const auto answered = check_callback(r, s, state, login)) {
        return *answered;
    }
    const std::string code = decoded_arg(r, "code");
    if (code.empty()) {
        return refuse(r, s, Failure::code_missing, login->return_to);
    }
    Callback* cb = pool_new<Callback>(r->pool, r, s, *login);
    if (cb == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    cb->code = code;
    // Single use on the server too (on every machine, with Redis): a kept
    // login cookie replayed with made-up codes must not reach the token
    // endpoint. The state is spent until its login cookie would expire.
    // The callback's pool cleanup (~Callback) cancels a Redis answer still
    // awaited, so `done` never finds a freed request.
    const Worker::LoginSpend spend =
        worker()->spend_login_state(spotauth::login_state_key(login->state), login->expires_at, [cb](bool fresh) {
            cb->state_spend = 0;
            completing(cb, [&] { on_state_spent(cb, fresh); });
        });
    cb->state_spend = spend.pending;
    if (spend.fresh && !*spend.fresh) {
        log_replay(r);
        return refuse(r, s, Failure::state_used, login->return_to);
    }
    if (spend.fresh && !exchange_code(cb)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->main->count++;
    return NGX_DONE;
}

}  // namespace spotauth_ngx
