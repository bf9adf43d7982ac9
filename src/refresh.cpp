// The refresh coordinator: single flight per worker over the stores of
// refresh_store.hpp (include/spotauth/refresh.hpp).
#include "spotauth/refresh.hpp"

#include "spotauth/session_cookie.hpp"

#include <algorithm>
#include <exception>
#include <iterator>
#include <set>

namespace spotauth {
namespace {

RefreshResult start_failure() {
    RefreshResult failed;
    failed.error = "internal";
    failed.description = "could not start the token request";
    return failed;
}

// A refusal of the refresh token while the fleet could not be asked (Redis
// down or refusing writes) is likely another machine's rotation of the same
// token, not the end of the session: the request keeps its session (and its
// access token while that lasts) instead of being logged out.
RefreshResult unheard_fleet_refusal(RefreshResult refused) {
    refused.outcome = TokenOutcome::transient;
    refused.description = "refresh token refused while the fleet could not coordinate (" + refused.error +
                          "; another machine may have rotated it)";
    return refused;
}

}  // namespace

bool access_token_due(UnixTime issued_at, UnixTime expires_at, UnixTime now, UnixTime leeway) {
    if (issued_at > 0 && expires_at > issued_at) {
        leeway = std::min(leeway, (expires_at - issued_at) / 2);
    }
    return expires_at - leeway <= now;
}

bool needs_refresh(const Session& session, UnixTime now, UnixTime leeway) {
    return access_token_due(session.access_issued_at, session.access_expires_at, now, leeway);
}

RefreshResult refresh_result(const TokenResponse& response, std::string_view sent_refresh_token, UnixTime now) {
    RefreshResult r;
    r.outcome = response.outcome;
    r.error = response.error;
    r.description = response.description;
    if (response.outcome == TokenOutcome::ok) {
        r.access_token = response.access_token;
        // Providers that do not rotate leave refresh_token out: keep ours.
        r.refresh_token = response.refresh_token.value_or(std::string(sent_refresh_token));
        r.access_expires_at = now + response.expires_in;
        r.access_issued_at = now;
    }
    return r;
}

Session refreshed_session(Session session, const RefreshResult& result) {
    session.access_token = result.access_token;
    session.refresh_token = result.refresh_token;
    session.access_expires_at = result.access_expires_at;
    session.access_issued_at = result.access_issued_at;
    return session;
}

RefreshResult refresh_without_token() {
    RefreshResult none;
    none.outcome = TokenOutcome::permanent;
    none.error = "no_refresh_token";
    none.description = "the session has no refresh token";
    return none;
}

RefreshResult unsendable_refresh() {
    RefreshResult failed;
    failed.outcome = TokenOutcome::transient;
    failed.error = "session_too_large";
    failed.description = "the refreshed session cookie would exceed " + std::to_string(kMaxSetCookieBytes) + " bytes";
    return failed;
}

RefreshJob continued_job(RefreshJob job, const RefreshResult& from) {
    job.refresh_token = from.refresh_token;
    job.request.post_body = refresh_body(job.refresh_token, job.body_credentials);
    return job;
}

RefreshCoordinator::RefreshCoordinator(HttpTransport& transport, RefreshStore& store, RefreshObserver& observer,
                                       Clock clock, RefreshTiming timing, FleetStore* fleet)
    : transport_(transport),
      store_(store),
      observer_(observer),
      clock_(std::move(clock)),
      timing_(timing),
      fleet_(fleet) {}

RefreshCoordinator::~RefreshCoordinator() {
    for (auto& [key, flight] : flights_) {
        if (flight.local) {
            transport_.cancel(flight.transfer);
            store_.release(key);
            if (flight.fleet_claimed) {
                fleet_->release(key);
            }
        }
    }
}

ClaimRequest RefreshCoordinator::claim_request(const RefreshJob& job) const {
    ClaimRequest c;
    c.now = clock_();
    // The claimer's call is bounded by its own timeout; leave it a margin.
    c.claim_deadline = c.now + job.request.total_timeout_ms + 1000;
    c.cache_window = timing_.cache_window;
    c.fresh_until = c.now / 1000 + timing_.leeway;
    c.stale_access_token = job.stale_access_token;
    c.refresh_token = job.refresh_token;
    return c;
}

// Follows the rotations the store remembers from the job's refresh token
// to the newest one, and waits on (or makes) the call for that one: its
// flight is keyed by the token it sends, so requests holding any token of
// the chain meet there.
RefreshCoordinator::Started RefreshCoordinator::refresh(const RefreshJob& job, Done done) {
    RefreshJob current = job;
    std::string key = refresh_key(current.refresh_token);
    for (int hop = 1;; ++hop) {
        if (const auto it = flights_.find(key); it != flights_.end()) {
            observer_.joined();
            return wait_on(it->second, std::move(done));
        }
        const RefreshStore::Claim claim = store_.claim(key, claim_request(current));
        if (claim.kind == ClaimKind::cached) {
            observer_.cache_hit();
            return {0, claim.cached};
        }
        if (claim.kind != ClaimKind::chained || hop == kMaxChainHops) {
            return start_flight(key, current, claim, std::move(done));
        }
        current = continued_job(std::move(current), claim.cached);
        key = refresh_key(current.refresh_token);
    }
}

RefreshCoordinator::Started RefreshCoordinator::start_flight(const std::string& key, const RefreshJob& job,
                                                             const RefreshStore::Claim& claim, Done done) {
    Flight& flight = flights_.emplace(key, Flight{job, false, 0, {}}).first->second;
    if (claim.kind != ClaimKind::acquired) {
        observer_.remote_wait();  // busy, or a chain poll() goes on following
        return wait_on(flight, std::move(done));
    }
    if (!claim.recorded) {
        observer_.claim_unrecorded();
    }
    if (fleet_ != nullptr && job.keys != nullptr) {
        ask_fleet(key, flight);
        return wait_on(flight, std::move(done));
    }
    start_call(key, flight);
    if (flight.transfer == 0) {
        flights_.erase(key);
        store_.release(key);
        return {0, start_failure()};
    }
    return wait_on(flight, std::move(done));
}

RefreshCoordinator::Started RefreshCoordinator::wait_on(Flight& flight, Done done) {
    const WaiterId id = ++last_waiter_;
    flight.waiters.push_back({id, clock_() + timing_.wait_limit, std::move(done)});
    return {id, std::nullopt};
}

// Moves the waiters of another worker's flight, which ended in a result
// too old for them that rotated their token, to the flight of its token.
void RefreshCoordinator::follow_chain(const std::string& key, const RefreshResult& from) {
    const auto it = flights_.find(key);
    RefreshJob job = continued_job(it->second.job, from);
    std::vector<Waiter> waiters = std::move(it->second.waiters);
    flights_.erase(it);
    const std::string next = refresh_key(job.refresh_token);
    auto target = flights_.find(next);
    if (target == flights_.end()) {
        target = flights_.emplace(next, Flight{std::move(job), false, 0, {}}).first;
    }
    auto& joined = target->second.waiters;
    joined.insert(joined.end(), std::make_move_iterator(waiters.begin()), std::make_move_iterator(waiters.end()));
    if (!target->second.local) {
        expire_waiters(next);
    }
}

void RefreshCoordinator::start_call(const std::string& key, Flight& flight) {
    flight.local = true;
    flight.transfer =
        transport_.start(flight.job.request, [this, key](const HttpResponse& response) { on_response(key, response); });
    if (flight.transfer != 0) {
        observer_.call_started();
    }
}

// This machine holds the claim: ask the fleet whether another machine is
// calling or has the result.
void RefreshCoordinator::ask_fleet(const std::string& key, Flight& flight) {
    flight.local = true;
    flight.fleet = FleetStep::asking;
    fleet_->claim(key, claim_request(flight.job), *flight.job.keys,
                  [this, key](const FleetStore::Answer& answer) { on_fleet_answer(key, answer); });
}

void RefreshCoordinator::on_fleet_answer(const std::string& key, const FleetStore::Answer& answer) {
    const auto it = flights_.find(key);
    if (it == flights_.end()) {
        if (answer.kind == FleetStore::Kind::acquired) {
            fleet_->release(key);
        }
        return;
    }
    Flight& flight = it->second;
    flight.fleet = FleetStep::none;
    switch (answer.kind) {
        case FleetStore::Kind::busy:
            flight.fleet = FleetStep::waiting;  // asked again at the next poll()
            return;
        case FleetStore::Kind::cached: {
            for (std::size_t i = 0; i < flight.waiters.size(); ++i) {
                observer_.cache_hit();
            }
            // Other workers of this machine learn it from the store.
            const RefreshResult standing = store_.publish(key, answer.cached, clock_(), timing_.cache_window);
            finish(key, standing);
            return;
        }
        case FleetStore::Kind::acquired:
        case FleetStore::Kind::unavailable:
            flight.fleet_claimed = answer.kind == FleetStore::Kind::acquired;
            flight.fleet_unheard = answer.kind == FleetStore::Kind::unavailable;
            start_call(key, flight);
            if (flight.transfer == 0) {
                call_failed_to_start(key);
            }
            return;
    }
}

void RefreshCoordinator::call_failed_to_start(const std::string& key) {
    const auto it = flights_.find(key);
    if (it != flights_.end() && it->second.fleet_claimed) {
        fleet_->release(key);
    }
    store_.release(key);
    finish(key, start_failure());
}

void RefreshCoordinator::on_response(const std::string& key, const HttpResponse& response) {
    const auto it = flights_.find(key);
    if (it == flights_.end()) {
        return;
    }
    RefreshResult result = refresh_result(parse_token_response(response.status, response.body),
                                          it->second.job.refresh_token, clock_() / 1000);
    if (response.status == 0) {
        result.description = "token endpoint unreachable: " + response.error;
    }
    observer_.call_finished(result.outcome, response.total_seconds);
    if (result.outcome == TokenOutcome::permanent && it->second.fleet_unheard) {
        result = unheard_fleet_refusal(result);
    }
    const bool settled = result.outcome == TokenOutcome::ok || result.outcome == TokenOutcome::permanent;
    const Flight& flight = it->second;
    if (fleet_ != nullptr && flight.job.keys != nullptr && (settled || flight.fleet_claimed)) {
        if (settled) {
            fleet_->publish(key, result, *flight.job.keys, timing_.cache_window);
        } else {
            fleet_->release(key);
        }
    }
    if (settled) {
        result = store_.publish(key, result, clock_(), timing_.cache_window);
    } else {
        store_.release(key);
    }
    finish(key, result);
}

// Waiters are called one at a time after the flight is gone, so a waiter
// may start a new refresh or cancel a waiter that has not been called yet.
void RefreshCoordinator::finish(const std::string& key, const RefreshResult& result) {
    const auto it = flights_.find(key);
    if (it == flights_.end()) {
        return;
    }
    std::vector<Waiter> waiters = std::move(it->second.waiters);
    flights_.erase(it);
    for (const Waiter& w : waiters) {
        delivering_.insert(w.id);
    }
    deliver(waiters, result, [this](const Waiter& w) { return delivering_.erase(w.id) == 1; });
}

void RefreshCoordinator::cancel(WaiterId id) {
    if (delivering_.erase(id) == 1) {
        return;
    }
    for (auto it = flights_.begin(); it != flights_.end(); ++it) {
        auto& waiters = it->second.waiters;
        const auto w = std::find_if(waiters.begin(), waiters.end(), [id](const Waiter& x) { return x.id == id; });
        if (w == waiters.end()) {
            continue;
        }
        waiters.erase(w);
        if (waiters.empty() && !it->second.local) {
            flights_.erase(it);
        }
        return;
    }
}

void RefreshCoordinator::poll() {
    std::vector<std::string> remote;
    std::vector<std::string> fleet_waits;
    for (const auto& [key, flight] : flights_) {
        if (!flight.local) {
            remote.push_back(key);
        } else if (flight.fleet == FleetStep::waiting) {
            fleet_waits.push_back(key);
        }
    }
    for (const std::string& key : fleet_waits) {
        const auto it = flights_.find(key);
        if (it != flights_.end() && it->second.fleet == FleetStep::waiting) {
            ask_fleet(key, it->second);
        }
    }
    for (const std::string& key : remote) {
        auto it = flights_.find(key);
        if (it == flights_.end() || it->second.local) {
            continue;
        }
        const RefreshStore::Claim claim = store_.claim(key, claim_request(it->second.job));
        if (claim.kind == ClaimKind::cached) {
            for (std::size_t i = 0; i < it->second.waiters.size(); ++i) {
                observer_.cache_hit();
            }
            finish(key, claim.cached);
        } else if (claim.kind == ClaimKind::acquired) {
            if (!claim.recorded) {
                observer_.claim_unrecorded();
            }
            // The other worker gave up or died.
            if (fleet_ != nullptr && it->second.job.keys != nullptr) {
                ask_fleet(key, it->second);
                continue;
            }
            start_call(key, it->second);
            if (it->second.transfer == 0) {
                call_failed_to_start(key);
            }
        } else if (claim.kind == ClaimKind::chained) {
            follow_chain(key, claim.cached);
        } else {
            expire_waiters(key);
        }
    }
}

void RefreshCoordinator::expire_waiters(const std::string& key) {
    const auto it = flights_.find(key);
    const MilliTime now = clock_();
    std::vector<Waiter> expired;
    auto& waiters = it->second.waiters;
    for (auto w = waiters.begin(); w != waiters.end();) {
        if (w->deadline <= now) {
            expired.push_back(std::move(*w));
            w = waiters.erase(w);
        } else {
            ++w;
        }
    }
    if (waiters.empty()) {
        flights_.erase(it);
    }
    RefreshResult timed_out;
    timed_out.error = "wait_timeout";
    timed_out.description = "timed out waiting for another worker's refresh";
    deliver(expired, timed_out, [](const Waiter&) { return true; });
}

// Calls each waiter still `wanted`; one that throws does not cost the
// others their answer (the first exception is rethrown at the end).
template <typename Wanted>
void RefreshCoordinator::deliver(std::vector<Waiter>& waiters, const RefreshResult& result, Wanted&& wanted) {
    std::exception_ptr first_failure;
    for (Waiter& w : waiters) {
        if (!wanted(w)) {
            continue;
        }
        try {
            w.done(result);
        } catch (...) {
            if (!first_failure) {
                first_failure = std::current_exception();
            }
        }
    }
    if (first_failure) {
        std::rethrow_exception(first_failure);
    }
}

bool RefreshCoordinator::needs_polling() const {
    return std::any_of(flights_.begin(), flights_.end(), [](const auto& entry) {
        return !entry.second.local || entry.second.fleet == FleetStep::waiting;
    });
}

}  // namespace spotauth
