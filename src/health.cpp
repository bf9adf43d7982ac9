#include "spotauth/health.hpp"

#include "spotauth/version.hpp"

#include <nlohmann/json.hpp>

namespace spotauth {

HealthReport health_report(const HealthChecks& checks) {
    const auto state = [](bool ok) { return ok ? "ok" : "unavailable"; };
    nlohmann::json body = {{"status", "ok"},
                           {"version", version()},
                           {"checks", {{"keys", state(checks.keys)}, {"zone", state(checks.zone)}}}};
    const bool refusing = checks.redis && *checks.redis && checks.redis_refusing;
    if (checks.redis) {
        body["checks"]["redis"] = refusing ? "refusing" : state(*checks.redis);
    }
    if (checks.keys && checks.zone) {
        if (checks.redis && (!*checks.redis || refusing)) {
            body["status"] = "degraded";
        }
        return {200, body.dump()};
    }
    body["status"] = "unavailable";
    body["reason"] = !checks.keys ? "keys_not_loaded" : "zone_unavailable";
    return {503, body.dump()};
}

}  // namespace spotauth
