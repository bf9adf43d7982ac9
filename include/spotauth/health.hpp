// The health endpoint's answer (spotauth_health), for load balancers and
// orchestrators: can this server sign users in and keep their sessions?
#pragma once

#include <optional>
#include <string>

namespace spotauth {

// What the glue found: the server's settings (its session keys) are loaded,
// and the shared zone answers (its lock taken and released).
struct HealthChecks {
    bool keys = false;
    bool zone = false;
    // spotauth_redis: nullopt without it; whether this worker is connected.
    std::optional<bool> redis;
    // Connected, but Redis answered with error replies lately (out of
    // memory, read-only, ...): its writes are not being taken.
    bool redis_refusing = false;
};

struct HealthReport {
    int status = 503;
    std::string body;  // JSON
};

// 200 {"status":"ok","version":<version()>,"checks":{"keys":"ok","zone":"ok"
// [,"redis":"ok"]}} when every check passes; 200 {"status":"degraded",...,
// "redis":"unavailable"} when only Redis is down, or "redis":"refusing" when
// it answers with errors (the machine still serves on its own: a load
// balancer must not pull every machine at once); otherwise 503
// {"status":"unavailable","reason":<first failing check's reason>,...}.
HealthReport health_report(const HealthChecks& checks);

}  // namespace spotauth
