// The per-process worker (see ngx_spotauth_worker.hpp).
#include "ngx_spotauth_worker.hpp"

#include <memory>

namespace spotauth_ngx {
namespace {

constexpr ngx_msec_t kRefreshPollMs = 20;
constexpr std::size_t kSessionCacheSize = 512;
constexpr std::size_t kExchangeLimitAddresses = 10000;
constexpr time_t kMisconfigurationLogSeconds = 60;

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

Worker::Worker(ngx_log_t* log, const MainConf& conf)
    : log_(log),
      loop_(log),
      client_(loop_),
      store_(conf.zone),
      login_states_(conf.zone),
      counters_(conf.zone),
      observer_(counters_),
      refresh_(client_, store_, observer_, &now_ms, timing_of(conf)),
      exchanges_per_address_(conf.exchange_limits.per_address, kExchangeLimitAddresses),
      exchanges_in_total_(conf.exchange_limits.in_total, 1) {
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
