// Login states spent across the fleet. A pending login costs the server
// nothing (its state travels sealed in its own login cookie); at the
// callback, which needs a code from the provider, its state is spent: the
// machine's zone first, then Redis, so that a login cookie replayed on any
// machine is refused. Redis keeps only spent states, each until its login
// would have expired anyway.
#pragma once

#include "spotauth/redis.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace spotauth {

enum class SpendAnswer {
    fresh,    // first use: go on
    spent,    // already used: refuse
    unknown,  // cannot tell (Redis down or refusing; a zone that does not know)
};

// Decides a callback from the machine's answer and the fleet's: a state
// spent here is refused without asking; otherwise the fleet decides when it
// answers, and the machine's own memory when it does not (Redis trouble
// never costs a login made on this machine).
bool login_state_fresh(SpendAnswer here, SpendAnswer fleet);

// The fleet's half: SET spotauth:spent:<key> NX PX <ttl> on Redis.
class FleetLoginStates {
public:
    using Done = std::function<void(SpendAnswer)>;

    explicit FleetLoginStates(RedisCommands& redis) : redis_(redis) {}

    // `done` runs later (never from inside spend()) with fresh (first use
    // in the fleet), spent (used on some machine) or unknown (no answer, or
    // an error reply: never taken for either).
    RedisCommands::CommandId spend(const std::string& key, std::int64_t ttl_ms, Done done);

private:
    RedisCommands& redis_;
};

}  // namespace spotauth
