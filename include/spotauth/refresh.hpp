// Refreshing an access token: when to do it, and making sure that however
// many requests carry the same expiring session, the token endpoint sees
// one call. Within a worker, requests wait on the call in flight (waiters,
// RefreshCoordinator); across workers and machines the stores of
// refresh_store.hpp decide who calls and remember the result.
#pragma once

#include "spotauth/http_client.hpp"
#include "spotauth/jwe.hpp"
#include "spotauth/oauth.hpp"
#include "spotauth/refresh_store.hpp"
#include "spotauth/session.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth {

// True when an access token issued at `issued_at` (0: unknown) and
// expiring at `expires_at` is due for a refresh at `now`: when it expires
// within `leeway` seconds, the leeway capped at half the token's lifetime
// so that a short-lived token is not refreshed on every request.
bool access_token_due(UnixTime issued_at, UnixTime expires_at, UnixTime now, UnixTime leeway);

// access_token_due() for the session's access token.
bool needs_refresh(const Session& session, UnixTime now, UnixTime leeway);

// A token-endpoint answer applied to the refresh token that was sent.
RefreshResult refresh_result(const TokenResponse& response, std::string_view sent_refresh_token, UnixTime now);

// `session` with the refreshed tokens.
Session refreshed_session(Session session, const RefreshResult& result);

// A refresh whose new session cannot be sent (its cookie would be too
// large): for the request, a transient failure, so the old session is kept.
RefreshResult unsendable_refresh();

// A refresh of a session that has no refresh token (a provider whose
// tokens do not expire, such as GitHub's OAuth apps, whose token was
// refused): nothing can renew it, so the session is over, as after
// invalid_grant; the token endpoint is not asked.
RefreshResult refresh_without_token();

struct RefreshJob {
    std::string refresh_token;
    std::string stale_access_token;  // the token an upstream refused, if any
    HttpRequest request;             // the token-endpoint call to make
    const KeyRing* keys = nullptr;   // seal what the fleet keeps (with a FleetStore)
    // The client's credentials for the body (body_credentials()); empty with
    // HTTP Basic. A continued job's body is rebuilt with them.
    std::string body_credentials{};
};

// `job` continued from a remembered refresh that rotated its refresh token:
// the same call, with the result's (newer) refresh token.
RefreshJob continued_job(RefreshJob job, const RefreshResult& from);

// How many rotations a request follows through the store at once; a longer
// chain (only a provider handing back old tokens makes one) is followed by
// poll(), one step at a time, until the request's wait runs out.
inline constexpr int kMaxChainHops = 8;

struct RefreshTiming {
    UnixTime leeway = 60;
    MilliTime cache_window = 30000;
    MilliTime wait_limit = 15000;  // longest a waiter waits for another worker
};

// What the coordinator reports, for logs and metrics.
class RefreshObserver {
public:
    virtual ~RefreshObserver() = default;
    virtual void call_started() {}
    virtual void call_finished(TokenOutcome /*outcome*/, double /*seconds*/) {}
    virtual void joined() {}            // waited on this worker's call in flight
    virtual void cache_hit() {}         // answered from the store's memory
    virtual void remote_wait() {}       // waited on another worker's call
    virtual void claim_unrecorded() {}  // the store had no room for a claim
};

// Per-worker single flight over a RefreshStore and an HttpTransport.
class RefreshCoordinator {
public:
    using WaiterId = std::uint64_t;
    using Done = std::function<void(const RefreshResult&)>;
    using Clock = std::function<MilliTime()>;

    // `fleet` (optional): the level above the store, across machines.
    RefreshCoordinator(HttpTransport& transport, RefreshStore& store, RefreshObserver& observer, Clock clock,
                       RefreshTiming timing, FleetStore* fleet = nullptr);
    ~RefreshCoordinator();
    RefreshCoordinator(const RefreshCoordinator&) = delete;
    RefreshCoordinator& operator=(const RefreshCoordinator&) = delete;

    // Either the result at once (a remembered one, or a failure to start;
    // `done` is then never called) or a waiter whose `done` runs later.
    struct Started {
        WaiterId waiter = 0;
        std::optional<RefreshResult> result;
    };
    Started refresh(const RefreshJob& job, Done done);

    // `done` of that waiter will not run; the call itself goes on, because
    // its result (a rotated refresh token) must still be stored.
    void cancel(WaiterId id);

    // Re-checks keys that another worker is refreshing and times out
    // waiters; call every few milliseconds while needs_polling().
    void poll();
    bool needs_polling() const;

private:
    struct Waiter {
        WaiterId id;
        MilliTime deadline;
        Done done;
    };
    enum class FleetStep { none, asking, waiting };
    struct Flight {
        RefreshJob job;
        bool local = false;  // this worker holds the machine's claim (calling or asking the fleet)
        HttpTransport::TransferId transfer = 0;
        std::vector<Waiter> waiters;
        FleetStep fleet = FleetStep::none;
        bool fleet_claimed = false;  // the fleet answered: this machine calls
        bool fleet_unheard = false;  // the fleet did not answer: another machine may be calling too
    };

    ClaimRequest claim_request(const RefreshJob& job) const;
    Started start_flight(const std::string& key, const RefreshJob& job, const RefreshStore::Claim& claim, Done done);
    Started wait_on(Flight& flight, Done done);
    void follow_chain(const std::string& key, const RefreshResult& from);
    void start_call(const std::string& key, Flight& flight);
    void ask_fleet(const std::string& key, Flight& flight);
    void on_fleet_answer(const std::string& key, const FleetStore::Answer& answer);
    void call_failed_to_start(const std::string& key);
    void on_response(const std::string& key, const HttpResponse& response);
    void finish(const std::string& key, const RefreshResult& result);
    void expire_waiters(const std::string& key);
    template <typename Wanted>
    void deliver(std::vector<Waiter>& waiters, const RefreshResult& result, Wanted&& wanted);

    HttpTransport& transport_;
    RefreshStore& store_;
    RefreshObserver& observer_;
    Clock clock_;
    RefreshTiming timing_;
    FleetStore* fleet_;
    std::map<std::string, Flight> flights_;
    std::set<WaiterId> delivering_;  // waiters of a finished flight not yet called
    WaiterId last_waiter_ = 0;
};

}  // namespace spotauth
