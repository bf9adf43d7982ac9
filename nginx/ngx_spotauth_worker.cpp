// The per-process worker (see ngx_spotauth_worker.hpp).
#include "ngx_spotauth_worker.hpp"

#include "spotauth/revocations.hpp"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <memory>

namespace spotauth_ngx {
namespace {

constexpr ngx_msec_t kRefreshPollMs = 20;
constexpr std::size_t kSessionCacheSize = 512;
constexpr std::size_t kExchangeLimitAddresses = 10000;
constexpr time_t kMisconfigurationLogSeconds = 60;
constexpr ngx_msec_t kRevocationPollMs = 500;
constexpr std::size_t kRevokedPruneFloor = 1024;
constexpr const char* kRevokedKey = "spotauth:revoked";
// Records a revocation at Redis's own time (no clock skew between machines)
// and forgets those older than a year (no session lives longer).
constexpr const char* kRevokeScript = R"(local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], ms, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - 31622400000)
return ms)";

// The one mutable global: owned by start_worker / stop_worker.
std::unique_ptr<Worker> current;

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

namespace {
std::string fleet_spent_key(const std::string& key) { return "spotauth:spent:" + key; }
}  // namespace

std::optional<bool> Worker::spend_login_state(const std::string& key, spotauth::UnixTime expires_at,
                                              std::function<void(bool)> done) {
    if (!login_states_.spend(key, expires_at, now())) {
        return false;  // spent on this machine already
    }
    if (!fleet_ || !fleet_->redis.up()) {
        return true;
    }
    // The fleet's part (single call site; the Redis logic moves to the core
    // with issue 19's fleet work): SET NX, nil when another machine spent it.
    const auto ttl_ms = std::to_string(std::max<spotauth::UnixTime>(expires_at - now(), 1) * 1000);
    fleet_->redis.command({"SET", fleet_spent_key(key), "1", "NX", "PX", ttl_ms},
                          [done = std::move(done)](const std::optional<spotauth::RedisValue>& v) {
                              // No usable answer from Redis: this machine's memory decides.
                              done(!(v && v->kind == spotauth::RedisValue::Kind::nil));
                          });
    return std::nullopt;
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
        fleet_->redis.command(
            {"EVAL", kRevokeScript, "1", kRevokedKey, session.sid + " " + std::to_string(session.expires_at)},
            [](const std::optional<spotauth::RedisValue>&) {});
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
      fleet_(conf.redis != nullptr ? std::make_unique<Fleet>(*this, *conf.redis) : nullptr),
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
        fleet_->redis.start();
    }
}

std::string describe(const spotauth::RedisEndpoint& endpoint) {
    return endpoint.unix_path.empty() ? endpoint.host + ":" + std::to_string(endpoint.port) : endpoint.unix_path;
}

Worker::Fleet::Fleet(Worker& w, const spotauth::RedisEndpoint& endpoint)
    : worker(w),
      loop(w.log_, false),
      redis(loop, endpoint, spotauth::RedisTiming{}, &now_ms,
            [log = w.log_, where = describe(endpoint), &counters = w.counters_](bool up, const std::string& why) {
                counters.redis_state(up);
                if (up) {
                    ngx_log_error(NGX_LOG_NOTICE, log, 0, "spotauth: redis at %s connected", where.c_str());
                } else {
                    ngx_log_error(NGX_LOG_WARN, log, 0,
                                  "spotauth: redis at %s unavailable (%s); refreshes are coordinated on this "
                                  "machine only until it is back",
                                  where.c_str(), why.c_str());
                }
            }),
      store(redis) {
    loop.attach(this);
    w.counters_.redis_state(false);
    ngx_memzero(&revocation_timer, sizeof revocation_timer);
    revocation_timer.handler = &Fleet::on_revocation_poll;
    revocation_timer.data = this;
    revocation_timer.log = w.log_;
    revocation_timer.cancelable = 1;  // a schedule, not work to finish
    ngx_add_timer(&revocation_timer, kRevocationPollMs);
}

Worker::Fleet::~Fleet() {
    if (revocation_timer.timer_set) {
        ngx_del_timer(&revocation_timer);
    }
}

void Worker::Fleet::on_revocation_poll(ngx_event_t* ev) noexcept {
    auto* self = static_cast<Fleet*>(ev->data);
    c_boundary(self->worker.log_, "reading the fleet's revocations", NGX_ERROR, [self] {
        self->poll_revocations();
        return NGX_OK;
    });
    ngx_add_timer(&self->revocation_timer, kRevocationPollMs);
}

// Members are "<sid> <until>", scored by when they were revoked.
void Worker::Fleet::poll_revocations() {
    if (!redis.up() || revocation_poll_pending) {
        return;
    }
    revocation_poll_pending = true;
    redis.command({"ZRANGEBYSCORE", kRevokedKey, "(" + revocation_cursor, "+inf", "WITHSCORES"},
                  [this](const std::optional<spotauth::RedisValue>& v) {
                      revocation_poll_pending = false;
                      if (!v || v->kind != spotauth::RedisValue::Kind::array) {
                          return;
                      }
                      for (std::size_t i = 0; i + 1 < v->elements.size(); i += 2) {
                          const std::string& member = v->elements[i].text;
                          const auto space = member.find(' ');
                          if (space != std::string::npos) {
                              worker.learn_revocation(member.substr(0, space),
                                                      std::atoll(member.c_str() + space + 1));
                          }
                          revocation_cursor = v->elements[i + 1].text;
                      }
                  });
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
