// The fleet level of refresh coordination on Redis (FleetStore is in
// refresh.hpp): several machines behind a load balancer share one claim per
// session and remember each result for the cache window, so a rotating
// refresh token is used once across the fleet.
#pragma once

#include "spotauth/jwe.hpp"
#include "spotauth/redis.hpp"
#include "spotauth/refresh.hpp"

#include <functional>
#include <optional>
#include <string>

namespace spotauth {

// A result as the fleet keeps it: sealed with the session key.
std::optional<std::string> seal_refresh_result(const KeyRing& keys, const RefreshResult& result);
std::optional<RefreshResult> open_refresh_result(const KeyRing& keys, std::string_view sealed);

// The fleet on Redis: claims with SET NX PX, results under their own key
// with the cache window as expiry. Keys are "spotauth:claim:<key>" and
// "spotauth:result:<key>" (the key is a hash of the refresh token).
class RedisFleetStore : public FleetStore {
public:
    explicit RedisFleetStore(RedisClient& redis) : redis_(redis) {}

    void claim(const std::string& key, const ClaimRequest& request, const KeyRing& keys, Done done) override;
    void publish(const std::string& key, const RefreshResult& result, const KeyRing& keys,
                 MilliTime cache_window) override;
    void release(const std::string& key) override;

private:
    void acquire(const std::string& key, const ClaimRequest& request, Done done);

    RedisClient& redis_;
};

}  // namespace spotauth
