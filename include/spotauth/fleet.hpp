// The fleet level of refresh coordination on Redis (FleetStore is in
// refresh_store.hpp): several machines behind a load balancer share one
// claim per session and remember each result for the cache window, so a
// rotating refresh token is used once across the fleet. Whatever Redis holds is
// trusted only under the key it was written for: a result is sealed with
// its key and kind as additional data, a claim is released only by its
// owner.
#pragma once

#include "spotauth/jwe.hpp"
#include "spotauth/redis.hpp"
#include "spotauth/refresh_store.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace spotauth {

// A result as the fleet keeps it: sealed with the session key, bound to
// `key` (the refresh token's hash) and to its kind, with the time it was
// stored. Opened elsewhere, at another key, or as another kind of record,
// it does not open.
std::optional<std::string> seal_refresh_result(const KeyRing& keys, std::string_view key, const RefreshResult& result,
                                               MilliTime stored_at);

struct OpenedRefreshResult {
    RefreshResult result;
    MilliTime stored_at = 0;
};
std::optional<OpenedRefreshResult> open_refresh_result(const KeyRing& keys, std::string_view key,
                                                       std::string_view sealed);

// How far another machine's clock may be ahead of ours when it stored a
// result (a result "from the future" beyond this is refused).
inline constexpr MilliTime kFleetClockSkewMs = 5000;

// The fleet on Redis: claims with SET NX PX holding a random owner token,
// results under their own key with the cache window as expiry. Keys are
// "spotauth:claim:<key>" and "spotauth:result:<key>" (the key is a hash of
// the refresh token).
class RedisFleetStore : public FleetStore {
public:
    using Clock = std::function<MilliTime()>;
    // A stored value that did not open where it was found (moved, replayed
    // or forged): it is treated as absent.
    using Tampered = std::function<void()>;

    RedisFleetStore(RedisCommands& redis, Clock clock, Tampered tampered = {})
        : redis_(redis), clock_(std::move(clock)), tampered_(std::move(tampered)) {}

    void claim(const std::string& key, const ClaimRequest& request, const KeyRing& keys, Done done) override;
    void publish(const std::string& key, const RefreshResult& result, const KeyRing& keys,
                 MilliTime cache_window) override;
    void release(const std::string& key) override;

private:
    void on_claim_reply(const std::string& key, const std::string& owner, const ClaimRequest& request,
                        const KeyRing& keys, const std::optional<RedisValue>& reply, const Done& done);
    std::optional<RefreshResult> usable_result(const std::string& key, const ClaimRequest& request, const KeyRing& keys,
                                               const std::string& sealed);
    void acquire(const std::string& key, const ClaimRequest& request, Done done);
    // Deletes the claim if this machine still owns it.
    void release_owned(const std::string& key);

    RedisCommands& redis_;
    Clock clock_;
    Tampered tampered_;
    std::map<std::string, std::string> owners_;  // key -> our owner token, while we hold its claim
};

}  // namespace spotauth
