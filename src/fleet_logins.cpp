// Spending login states across the fleet (see fleet_logins.hpp).
#include "spotauth/fleet_logins.hpp"

#include <algorithm>

namespace spotauth {

bool login_state_fresh(SpendAnswer here, SpendAnswer fleet) {
    if (here == SpendAnswer::spent) {
        return false;
    }
    if (fleet != SpendAnswer::unknown) {
        return fleet == SpendAnswer::fresh;
    }
    return here == SpendAnswer::fresh;
}

RedisCommands::CommandId FleetLoginStates::spend(const std::string& key, std::int64_t ttl_ms, Done done) {
    return redis_.command(
        {"SET", "spotauth:spent:" + key, "1", "NX", "PX", std::to_string(std::max<std::int64_t>(ttl_ms, 1))},
        [done = std::move(done)](const std::optional<RedisValue>& v) {
            if (!redis_answered(v)) {
                done(SpendAnswer::unknown);
            } else if (v->kind == RedisValue::Kind::nil) {
                done(SpendAnswer::spent);
            } else if (v->kind == RedisValue::Kind::status && v->text == "OK") {
                done(SpendAnswer::fresh);
            } else {
                done(SpendAnswer::unknown);
            }
        });
}

}  // namespace spotauth
