// The memory of refreshes that coordinates them across workers and
// machines: the claim protocol (decide_claim, keeps_earlier_result) written
// once over a machine's locked records (RefreshStore: the nginx zone), and
// the level above it, the fleet's (FleetStore: Redis). A store decides who
// calls the token endpoint and remembers the result for a short window, so
// that a request still carrying the pre-rotation refresh token gets the new
// tokens instead of an invalid_grant.
#pragma once

#include "spotauth/jwe.hpp"
#include "spotauth/oauth.hpp"
#include "spotauth/session.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

using MilliTime = std::int64_t;

// The outcome of one refresh, as every waiter sees it.
struct RefreshResult {
    TokenOutcome outcome = TokenOutcome::transient;
    std::string access_token;
    std::string refresh_token;  // the new one when rotated, else the old one
    UnixTime access_expires_at = 0;
    UnixTime access_issued_at = 0;
    std::string error;        // short code, safe to log
    std::string description;  // safe to log
};

// The key under which a refresh is coordinated: a hash of the refresh
// token, never the token itself.
std::string refresh_key(std::string_view refresh_token);

// One remembered refresh, as a store keeps it.
struct StoredRefresh {
    bool in_flight = false;
    MilliTime claim_deadline = 0;  // in flight: others may take over after this
    MilliTime stored_at = 0;       // done: when the result was stored
    RefreshResult result;
};

struct ClaimRequest {
    MilliTime now = 0;
    MilliTime claim_deadline = 0;    // how long the claimer may take
    MilliTime cache_window = 0;      // how long a stored result is good for
    UnixTime fresh_until = 0;        // a cached access token must outlive this
    std::string stale_access_token;  // ...and must not be this one
    std::string refresh_token;       // the token the claimer would send
};

enum class ClaimKind {
    acquired,  // make the call with the token sent
    busy,      // another worker is making it
    cached,    // the remembered result answers the request
    // The remembered result is too old for the request, but it rotated the
    // token sent, which the provider now refuses: continue the chain with
    // the result's refresh token (claimed under its own key).
    chained,
};

// The decision every store makes under its lock: reuse a remembered result,
// wait for another worker's call, make the call (acquire), or continue from
// the newer refresh token a remembered result holds (chained).
ClaimKind decide_claim(const StoredRefresh* existing, const ClaimRequest& request);

// Whether a store keeps `existing` rather than storing `incoming` for the
// same refresh token: an invalid_grant never replaces a successful refresh
// still in the cache window, because it is what a second call with the
// same token gets once the first one rotated it (two calls happen when a
// claim lapsed, or could not be recorded in a full store).
bool keeps_earlier_result(const StoredRefresh* existing, const RefreshResult& incoming, MilliTime now,
                          MilliTime cache_window);

// What a store of refreshes keeps, seen while it is locked.
class RefreshRecords {
public:
    virtual ~RefreshRecords() = default;
    virtual std::optional<StoredRefresh> find(std::string_view key) = 0;
    // False when the store has no room: the entry is then not kept.
    virtual bool put(std::string_view key, const StoredRefresh& entry) = 0;
    virtual void erase(std::string_view key) = 0;
    // Forgets what no claim can use any more (a store's housekeeping).
    virtual void forget_stale(MilliTime /*now*/, MilliTime /*cache_window*/) {}
};

// A machine's shared memory of refreshes (the nginx zone). The protocol
// (claim, publish, release) is written once, here; a store provides
// locked access to its records.
class RefreshStore {
public:
    struct Claim {
        ClaimKind kind = ClaimKind::acquired;
        RefreshResult cached;  // when kind == cached or chained: the remembered result
        bool recorded = true;  // acquired, but the store had no room for the claim
    };

    virtual ~RefreshStore() = default;

    // Atomically applies decide_claim() and, when acquired, records the
    // claim. A chained claim records nothing: the result stays, so that
    // every request with the old token finds the way to the newest one.
    Claim claim(std::string_view key, const ClaimRequest& request);

    // Stores a final result (ok or permanent) and ends the claim, unless
    // keeps_earlier_result(); returns the result that stands.
    RefreshResult publish(std::string_view key, const RefreshResult& result, MilliTime now, MilliTime cache_window);

    // Ends the claim without a result (transient failure: let the next try).
    void release(std::string_view key);

protected:
    // Runs `body` with the records locked.
    virtual void with_records(const std::function<void(RefreshRecords&)>& body) = 0;
};

// The level above a machine's RefreshStore: the fleet of machines behind a
// load balancer (Redis). The machine's store stays the first level: only
// the worker that holds a session's claim on its machine asks the fleet.
class FleetStore {
public:
    enum class Kind {
        acquired,     // this machine calls the token endpoint
        busy,         // another machine is calling: ask again shortly
        cached,       // a result another machine stored
        unavailable,  // no answer from the fleet: coordinate on this machine
    };
    struct Answer {
        Kind kind = Kind::unavailable;
        RefreshResult cached;
    };
    using Done = std::function<void(const Answer&)>;

    virtual ~FleetStore() = default;

    // `keys` seal and open what the fleet stores (never plaintext tokens).
    // `done` runs later, never from inside the call.
    virtual void claim(const std::string& key, const ClaimRequest& request, const KeyRing& keys, Done done) = 0;
    virtual void publish(const std::string& key, const RefreshResult& result, const KeyRing& keys,
                         MilliTime cache_window) = 0;
    virtual void release(const std::string& key) = 0;
};

}  // namespace spotauth
