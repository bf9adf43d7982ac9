// The per-process worker (see ngx_spotauth_worker.hpp).
#include "ngx_spotauth_worker.hpp"

#include "spotauth/revocations.hpp"
#include "spotauth/version.hpp"

#include <algorithm>
#include <iterator>
#include <memory>

namespace spotauth_ngx {
namespace {

constexpr ngx_msec_t kRefreshPollMs = 20;
constexpr std::size_t kSessionCacheSize = 512;
constexpr std::size_t kExchangeLimitAddresses = 10000;
constexpr time_t kMisconfigurationLogSeconds = 60;
constexpr ngx_msec_t kFleetTickMs = 100;
constexpr std::size_t kRevokedPruneFloor = 1024;
constexpr spotauth::UnixTime kDefaultSessionLifetime = 30 * 86400;

// The one mutable global: owned by start_worker / stop_worker.
std::unique_ptr<Worker> current;

std::string describe(const spotauth::RedisEndpoint& endpoint) {
    return endpoint.unix_path.empty() ? endpoint.host + ":" + std::to_string(endpoint.port) : endpoint.unix_path;
}

spotauth::RefreshTiming timing_of(const MainConf& conf) {
    spotauth::RefreshTiming timing;
    timing.leeway = conf.refresh_leeway;
    timing.cache_window = static_cast<spotauth::MilliTime>(conf.refresh_cache);
    return timing;
}

}  // namespace

void MetricsObserver::call_started() { counters_.call_started(); }

void MetricsObserver::call_finished(spotauth::TokenOutcome outcome, double seconds) {
    counters_.call_finished();
    counters_.add_latency(seconds);
    switch (outcome) {
        case spotauth::TokenOutcome::ok: counters_.add(spotauth::kRefreshOk); break;
        case spotauth::TokenOutcome::permanent: counters_.add(spotauth::kRefreshPermanent); break;
        case spotauth::TokenOutcome::transient: counters_.add(spotauth::kRefreshTransient); break;
        case spotauth::TokenOutcome::misconfigured: counters_.add(spotauth::kRefreshMisconfigured); break;
    }
}

// The zone marks the state spent until its login cookie would expire: a
// second callback with it on this machine is refused at once.
spotauth::SpendAnswer Worker::spend_here(const std::string& key, spotauth::UnixTime expires_at) {
    return login_states_.spend(key, expires_at, now()) ? spotauth::SpendAnswer::fresh : spotauth::SpendAnswer::spent;
}

Worker::LoginSpend Worker::spend_login_state(const std::string& key, spotauth::UnixTime expires_at,
                                             std::function<void(bool fresh)> done) {
    const spotauth::SpendAnswer here = spend_here(key, expires_at);
    if (here == spotauth::SpendAnswer::spent || !fleet_ || !fleet_->redis.up()) {
        return {spotauth::login_state_fresh(here, spotauth::SpendAnswer::unknown), 0};
    }
    const spotauth::MilliTime ttl_ms = std::max<spotauth::UnixTime>(expires_at - now(), 1) * 1000;
    const auto pending = fleet_->logins.spend(key, ttl_ms, [here, done = std::move(done)](spotauth::SpendAnswer fleet) {
        done(spotauth::login_state_fresh(here, fleet));
    });
    return {std::nullopt, pending};
}

void Worker::cancel_login_spend(spotauth::RedisCommands::CommandId pending) {
    if (fleet_ && pending != 0) {
        fleet_->watch.cancel(pending);
    }
}

void Worker::learn_revocation(std::string sid, spotauth::UnixTime until) {
    const spotauth::UnixTime t = now();
    if (until <= t) {
        return;
    }
    // Sessions that ended anyway are forgotten now and then, so the copy
    // stays the size of the revocations in force.
    if (revoked_.size() >= std::max<std::size_t>(revoked_pruned_at_ * 2, kRevokedPruneFloor)) {
        for (auto it = revoked_.begin(); it != revoked_.end();) {
            it = it->second <= t ? revoked_.erase(it) : std::next(it);
        }
        revoked_pruned_at_ = revoked_.size();
    }
    revoked_[std::move(sid)] = until;
}

void Worker::revoke(const spotauth::Session& session) {
    if (session.sid.empty()) {
        return;  // sealed before sessions had ids: only its cookie is cleared
    }
    if (const int evicted = zone_revocations_.revoke(session.sid, session.issued_at, session.expires_at, now())) {
        counters_.add(spotauth::kRevocationsEvicted, static_cast<std::uint64_t>(evicted));
        if (zone_revocations_.first_floor_raise()) {
            ngx_log_error(NGX_LOG_WARN, log_, 0,
                          "spotauth: the zone is full of logouts; sessions that began before %T must sign in "
                          "again (spotauth_revocation_floor_seconds); enlarge spotauth_zone",
                          static_cast<time_t>(zone_revocations_.floor()));
        }
    }
    learn_revocation(session.sid, session.expires_at);
    if (fleet_) {
        fleet_->revocations.revoke(session.sid, session.expires_at, now());
        counters_.logouts_pending(fleet_->revocations.outbox_size());
    }
}

bool Worker::revoked(const spotauth::Session& session) {
    if (session.sid.empty()) {
        return false;
    }
    const std::uint64_t version = zone_revocations_.version();
    if (version != revocations_seen_) {
        revocations_seen_ = version;
        for (auto& [sid, until] : zone_revocations_.list(now())) {
            learn_revocation(std::move(sid), until);
        }
    }
    const auto it = revoked_.find(session.sid);
    const auto until = it != revoked_.end() ? std::optional<spotauth::UnixTime>(it->second) : std::nullopt;
    return spotauth::session_refused(session, zone_revocations_.floor(), until, now());
}

Worker::Worker(ngx_log_t* log, const MainConf& conf)
    : log_(log),
      loop_(log, true),
      client_(loop_),
      store_(conf.zone),
      login_states_(conf.zone),
      counters_(conf.zone),
      observer_(counters_),
      fleet_(conf.redis != nullptr ? std::make_unique<Fleet>(*this, conf) : nullptr),
      refresh_(client_, store_, observer_, &now_ms, timing_of(conf), fleet_ ? &fleet_->store : nullptr),
      exchanges_per_address_(conf.exchange_limits.per_address, kExchangeLimitAddresses),
      exchanges_in_total_(conf.exchange_limits.in_total, 1),
      zone_revocations_(conf.zone) {
    loop_.attach(&client_);
    counters_.start_worker();
    ngx_memzero(&poll_timer_, sizeof poll_timer_);
    poll_timer_.handler = &Worker::on_poll;
    poll_timer_.data = this;
    poll_timer_.log = log;
    // Armed only while requests wait on another worker's refresh (at most
    // RefreshTiming::wait_limit): a worker leaving on reload answers them
    // first.
    poll_timer_.cancelable = 0;
    if (fleet_) {
        // This machine's logouts still in force go to the fleet again: one
        // that an exited worker's outbox held (Redis down at a reload or a
        // crash) is not lost; one Redis has is left as it is (ZADD NX).
        for (const auto& [sid, until] : zone_revocations_.list(now())) {
            fleet_->revocations.revoke(sid, until, now());
        }
        fleet_->redis.start();
    }
}

namespace {

spotauth::RedisTiming fleet_timing() {
    spotauth::RedisTiming timing;
    // Back within a second of Redis: a logout waiting in the outbox goes
    // out, and the other machines read it, soon after it recovers.
    timing.backoff_max_ms = 1000;
    return timing;
}

spotauth::RevocationTiming revocation_timing(const MainConf& conf) {
    spotauth::RevocationTiming timing;
    const spotauth::UnixTime lifetime = conf.longest_session > 0 ? conf.longest_session : kDefaultSessionLifetime;
    timing.lifetime_ms = static_cast<std::int64_t>(lifetime) * 1000;
    return timing;
}

spotauth::Counter error_counter(spotauth::RedisErrorKind kind) {
    switch (kind) {
        case spotauth::RedisErrorKind::oom: return spotauth::kRedisErrorsOom;
        case spotauth::RedisErrorKind::readonly: return spotauth::kRedisErrorsReadonly;
        case spotauth::RedisErrorKind::noauth: return spotauth::kRedisErrorsNoauth;
        case spotauth::RedisErrorKind::loading: return spotauth::kRedisErrorsLoading;
        case spotauth::RedisErrorKind::other: break;
    }
    return spotauth::kRedisErrorsOther;
}

}  // namespace

Worker::Fleet::Fleet(Worker& w, const MainConf& conf)
    : worker(w),
      where(describe(*conf.redis)),
      loop(w.log_, false),
      redis(loop, *conf.redis, fleet_timing(), &now_ms,
            [this](bool up, const std::string& why) { on_redis_state(up, why); }),
      watch(redis, &now_ms,
            [this](spotauth::RedisErrorKind kind, bool outage_starts, const std::string& text) {
                on_error_reply(kind, outage_starts, text);
            }),
      store(watch, &now_ms, [this] { on_tampered(); }),
      revocations(watch, &now_ms, revocation_timing(conf),
                  [&w](const std::string& sid, spotauth::UnixTime until) { w.learn_revocation(sid, until); }),
      logins(watch) {
    loop.attach(this);
    w.counters_.redis_state(false);
    ngx_memzero(&tick_timer, sizeof tick_timer);
    tick_timer.handler = &Fleet::on_tick;
    tick_timer.data = this;
    tick_timer.log = w.log_;
    tick_timer.cancelable = 1;  // a schedule, not work to finish
    ngx_add_timer(&tick_timer, kFleetTickMs);
}

Worker::Fleet::~Fleet() {
    if (tick_timer.timer_set) {
        ngx_del_timer(&tick_timer);
    }
}

void Worker::Fleet::on_redis_state(bool up, const std::string& why) {
    worker.counters_.redis_state(up && !watch.refusing());
    if (up) {
        revocations.connected();
        ngx_log_error(NGX_LOG_NOTICE, worker.log_, 0, "spotauth: redis at %s connected", where.c_str());
    } else {
        ngx_log_error(NGX_LOG_WARN, worker.log_, 0,
                      "spotauth: redis at %s unavailable (%s); refreshes are coordinated on this "
                      "machine only until it is back",
                      where.c_str(), why.c_str());
    }
}

// Counted always, logged once per outage: Redis's own message names the
// problem (no secrets in it).
void Worker::Fleet::on_error_reply(spotauth::RedisErrorKind kind, bool outage_starts, const std::string& text) {
    worker.counters_.add(error_counter(kind));
    worker.counters_.redis_state(false);
    if (outage_starts) {
        ngx_log_error(NGX_LOG_WARN, worker.log_, 0,
                      "spotauth: redis at %s refuses commands (%s: %s); logouts are kept and retried, "
                      "logins and refreshes are decided on this machine until it takes them again",
                      where.c_str(), spotauth::redis_error_label(kind), text.c_str());
    }
}

void Worker::Fleet::on_tampered() {
    worker.counters_.add(spotauth::kFleetValuesRefused);
    if (!tamper_logged) {
        tamper_logged = true;
        ngx_log_error(NGX_LOG_ERR, worker.log_, 0,
                      "spotauth: a refresh result in redis at %s does not open under the key it was found at "
                      "(moved, replayed or forged); it was ignored. Check who can write to this redis",
                      where.c_str());
    }
}

void Worker::Fleet::on_tick(ngx_event_t* ev) noexcept {
    auto* self = static_cast<Fleet*>(ev->data);
    c_boundary(self->worker.log_, "the fleet's logouts", NGX_ERROR, [self] {
        self->tick();
        return NGX_OK;
    });
    ngx_add_timer(&self->tick_timer, kFleetTickMs);
}

void Worker::Fleet::tick() {
    revocations.tick(now());
    worker.counters_.logouts_pending(revocations.outbox_size());
    worker.counters_.redis_state(redis.up() && !watch.refusing());
}

void Worker::Fleet::on_socket_ready(int fd, int events) {
    redis.on_socket_ready(fd, events);
    worker.schedule_poll();
}

void Worker::Fleet::on_timeout() {
    redis.on_timeout();
    worker.schedule_poll();
}

Worker::~Worker() {
    if (poll_timer_.timer_set) {
        ngx_del_timer(&poll_timer_);
    }
}

void Worker::schedule_poll() {
    if (refresh_.needs_polling() && !poll_timer_.timer_set) {
        ngx_add_timer(&poll_timer_, kRefreshPollMs);
    }
}

void Worker::on_poll(ngx_event_t* ev) noexcept {
    auto* self = static_cast<Worker*>(ev->data);
    c_boundary(self->log_, "the refresh poll", NGX_ERROR, [self] {
        self->refresh_.poll();
        self->schedule_poll();
        return NGX_OK;
    });
}

spotauth::MilliTime Worker::exchange_wait(std::string_view address) {
    const spotauth::MilliTime t = now_ms();
    const spotauth::MilliTime wait = exchanges_per_address_.take(address, t);
    return wait != 0 ? wait : exchanges_in_total_.take("", t);
}

spotauth::SharedSession Worker::open_session(const Settings& settings, std::string_view cookie) {
    auto it = sessions_.find(&settings);
    if (it == sessions_.end()) {
        it = sessions_.emplace(&settings, spotauth::SessionCache(kSessionCacheSize)).first;
    }
    return it->second.open(settings.keys, cookie, now());
}

bool Worker::misconfiguration_log_due() {
    if (ngx_time() - misconfiguration_logged_at_ < kMisconfigurationLogSeconds) {
        return false;
    }
    misconfiguration_logged_at_ = ngx_time();
    return true;
}

Worker* worker() { return current.get(); }

ngx_int_t start_worker(ngx_cycle_t* cycle) noexcept {
    const auto* conf = static_cast<MainConf*>(ngx_http_cycle_get_module_main_conf(cycle, ngx_http_spotauth_module));
    if (conf == nullptr || conf->zone == nullptr) {
        return NGX_OK;  // no http block or no spotauth location: nothing to run
    }
    return c_boundary(cycle->log, "starting the worker", NGX_ERROR, [&] {
        current = std::make_unique<Worker>(cycle->log, *conf);
        // Which build runs: a reload keeps the old .so (see docs/deploy.md).
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0, "spotauth %s (nginx " NGINX_VERSION ") started",
                      std::string(spotauth::version()).c_str());
        return NGX_OK;
    });
}

void stop_worker() noexcept { current.reset(); }

void count(spotauth::Counter c) {
    if (Worker* w = worker()) {
        w->counters().add(c);
    }
}

}  // namespace spotauth_ngx
