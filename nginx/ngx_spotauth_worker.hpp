// What a worker process owns: the HTTP client on nginx's event loop, the
// refresh coordinator and its poll timer, the stores over the shared zone,
// the code-exchange limits and the session caches. One per process,
// started by init_process and stopped by exit_process.
#pragma once

#include "ngx_spotauth_event_loop.hpp"
#include "ngx_spotauth_module.hpp"
#include "ngx_spotauth_zone.hpp"

#include "spotauth/fleet.hpp"
#include "spotauth/fleet_logins.hpp"
#include "spotauth/fleet_revocations.hpp"
#include "spotauth/redis_watch.hpp"
#include "spotauth/http_client.hpp"
#include "spotauth/rate_limit.hpp"
#include "spotauth/refresh.hpp"
#include "spotauth/session_cache.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace spotauth_ngx {

// The coordinator's events, counted in the shared zone.
class MetricsObserver : public spotauth::RefreshObserver {
public:
    explicit MetricsObserver(ZoneCounters& counters) : counters_(counters) {}

    void call_started() override;
    void call_finished(spotauth::TokenOutcome outcome, double seconds) override;
    void joined() override { counters_.add(spotauth::kRefreshJoined); }
    void cache_hit() override { counters_.add(spotauth::kRefreshCacheHits); }
    void remote_wait() override { counters_.add(spotauth::kRefreshRemoteWaits); }
    void claim_unrecorded() override { counters_.add(spotauth::kRefreshClaimsUnrecorded); }

private:
    ZoneCounters& counters_;
};

class Worker {
public:
    Worker(ngx_log_t* log, const MainConf& conf);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Keeps checking on other workers' refreshes while anyone waits for one.
    void schedule_poll();

    // 0 when a code exchange for `address` may start now, otherwise the
    // milliseconds until one may.
    spotauth::MilliTime exchange_wait(std::string_view address);

    // Opens a session cookie through this worker's cache for `settings`;
    // the session is shared with the cache, not copied.
    spotauth::SharedSession open_session(const Settings& settings, std::string_view cookie);

    // True at most once a minute: for the crit line of a misconfigured
    // token endpoint.
    bool misconfiguration_log_due();

    // Spends a login's state at its callback (a pending login writes
    // nothing: it lives in its own cookie): true once across the fleet, until
    // `expires_at` (its login cookie's expiry). Decided at once from the zone
    // (a state spent here, or no Redis to ask), or later (nullopt; `done` runs
    // then, unless the request ended first) from Redis, whose trouble leaves
    // the decision to the zone.
    // The answer is `fresh` at once, or `done` runs later with it; `pending`
    // names the Redis command it waits on, for cancel_login_spend when the
    // request ends first.
    struct LoginSpend {
        std::optional<bool> fresh;
        spotauth::RedisCommands::CommandId pending = 0;
    };
    LoginSpend spend_login_state(const std::string& key, spotauth::UnixTime expires_at,
                                 std::function<void(bool fresh)> done);

    // `done` of that spend will not run.
    void cancel_login_spend(spotauth::RedisCommands::CommandId pending);

    // Logout: the session's id is refused on this machine at once, and
    // on every machine of the fleet within a second (with spotauth_redis).
    void revoke(const spotauth::Session& session);

    // Whether a logout, here or elsewhere in the fleet, ended the session.
    // Cheap: an atomic read, and a hash lookup in this worker's copy.
    bool revoked(const spotauth::Session& session);

    // With spotauth_redis: whether this worker is connected to it, and
    // whether Redis refused commands lately (error replies).
    bool fleet_connected() const { return fleet_ && fleet_->redis.up(); }
    bool fleet_refusing() const { return fleet_ && fleet_->watch.refusing(); }

    spotauth::HttpClient& client() { return client_; }
    spotauth::RefreshCoordinator& refresh() { return refresh_; }
    ZoneCounters& counters() { return counters_; }

private:
    static void on_poll(ngx_event_t* ev) noexcept;

    // Redis, when spotauth_redis is set: the fleet's refresh claims,
    // logouts and spent login states (the core's classes, over Redis's
    // error-reply watch). Its timers never hold up a worker leaving on
    // reload.
    struct Fleet : spotauth::EventSink {
        Fleet(Worker& worker, const MainConf& conf);
        ~Fleet() override;
        // Redis's events, then the coordinator's polling: an answer of the
        // fleet ("another machine is calling") starts it.
        void on_socket_ready(int fd, int events) override;
        void on_timeout() override;

        // The logout outbox and the revocation reads, every 100 ms.
        static void on_tick(ngx_event_t* ev) noexcept;
        void tick();
        void on_redis_state(bool up, const std::string& why);
        void on_error_reply(spotauth::RedisErrorKind kind, bool outage_starts, const std::string& text);
        void on_tampered();

        Worker& worker;
        std::string where;  // Redis's address, for the log
        NginxEventLoop loop;
        spotauth::RedisClient redis;
        spotauth::RedisErrorWatch watch;
        spotauth::RedisFleetStore store;
        spotauth::FleetRevocations revocations;
        spotauth::FleetLoginStates logins;
        ngx_event_t tick_timer;
        bool tamper_logged = false;
    };

    // The zone's half of spending a login state.
    spotauth::SpendAnswer spend_here(const std::string& key, spotauth::UnixTime expires_at);

    void learn_revocation(std::string sid, spotauth::UnixTime until);

    ngx_log_t* log_;
    NginxEventLoop loop_;
    spotauth::HttpClient client_;
    ZoneRefreshStore store_;
    ZoneLoginStates login_states_;
    ZoneCounters counters_;
    MetricsObserver observer_;
    std::unique_ptr<Fleet> fleet_;
    spotauth::RefreshCoordinator refresh_;
    spotauth::RateLimiter exchanges_per_address_;
    spotauth::RateLimiter exchanges_in_total_;
    std::unordered_map<const Settings*, spotauth::SessionCache> sessions_;
    ZoneRevocations zone_revocations_;
    std::uint64_t revocations_seen_ = ~std::uint64_t{0};           // the zone's version last read
    std::unordered_map<std::string, spotauth::UnixTime> revoked_;  // sid -> until
    std::size_t revoked_pruned_at_ = 0;                            // its size after the last prune
    time_t misconfiguration_logged_at_ = 0;
    ngx_event_t poll_timer_;
};

// This process's worker; null before init_process and after exit_process,
// and in processes that do not serve requests.
Worker* worker();

// init_process / exit_process.
ngx_int_t start_worker(ngx_cycle_t* cycle) noexcept;
void stop_worker() noexcept;

// Counts `c` in the shared zone (nothing without a worker).
void count(spotauth::Counter c);

}  // namespace spotauth_ngx
