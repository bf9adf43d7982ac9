// Redis's error replies as an operator needs to see them. Redis can be
// connected and still refuse every write (OOM under noeviction, READONLY
// after a failover, NOAUTH, LOADING after a restart): those replies are
// counted by kind, reported once per outage, and make the fleet "refusing"
// (health says degraded) until Redis has answered without an error for a
// while.
#pragma once

#include "spotauth/redis.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace spotauth {

// How long after the last error reply Redis still counts as refusing (and a
// new error reply belongs to the same outage).
inline constexpr std::int64_t kRedisRefusingMs = 10000;

class RedisErrorWatch : public RedisCommands {
public:
    using Clock = std::function<std::int64_t()>;  // milliseconds
    // Every error reply; `outage_starts` for the first after a quiet
    // period (log it); `text` is Redis's own message (no secrets in it).
    using Report = std::function<void(RedisErrorKind kind, bool outage_starts, const std::string& text)>;

    RedisErrorWatch(RedisCommands& inner, Clock clock, Report report)
        : inner_(inner), clock_(std::move(clock)), report_(std::move(report)) {}

    CommandId command(std::vector<std::string> argv, Reply done) override;
    void cancel(CommandId id) override { inner_.cancel(id); }
    bool up() const override { return inner_.up(); }

    // An error reply came within kRedisRefusingMs.
    bool refusing() const;

private:
    void saw(const std::optional<RedisValue>& reply);

    RedisCommands& inner_;
    Clock clock_;
    Report report_;
    bool ever_refused_ = false;
    std::int64_t last_error_at_ = 0;
};

}  // namespace spotauth
