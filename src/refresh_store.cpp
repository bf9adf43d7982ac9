// The claim protocol over a store's records (include/spotauth/refresh_store.hpp).
#include "spotauth/refresh_store.hpp"

#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"

namespace spotauth {

std::string refresh_key(std::string_view refresh_token) { return base64url_encode(sha256(refresh_token)); }

ClaimKind decide_claim(const StoredRefresh* existing, const ClaimRequest& request) {
    if (existing == nullptr) {
        return ClaimKind::acquired;
    }
    if (existing->in_flight) {
        // A claimer that died or hung loses its claim at the deadline.
        return existing->claim_deadline > request.now ? ClaimKind::busy : ClaimKind::acquired;
    }
    if (request.now - existing->stored_at >= request.cache_window) {
        return ClaimKind::acquired;
    }
    const RefreshResult& r = existing->result;
    if (r.outcome == TokenOutcome::permanent) {
        return ClaimKind::cached;  // that refresh token is dead; asking again won't help
    }
    if (r.outcome != TokenOutcome::ok) {
        return ClaimKind::acquired;
    }
    if (r.access_expires_at > request.fresh_until && r.access_token != request.stale_access_token) {
        return ClaimKind::cached;
    }
    // A new access token is needed. The token sent was rotated away by that
    // refresh (the provider would refuse it): ask with the newest one.
    return r.refresh_token != request.refresh_token ? ClaimKind::chained : ClaimKind::acquired;
}

bool keeps_earlier_result(const StoredRefresh* existing, const RefreshResult& incoming, MilliTime now,
                          MilliTime cache_window) {
    return existing != nullptr && !existing->in_flight && incoming.outcome == TokenOutcome::permanent &&
           existing->result.outcome == TokenOutcome::ok && now - existing->stored_at < cache_window;
}

RefreshStore::Claim RefreshStore::claim(std::string_view key, const ClaimRequest& request) {
    Claim c;
    with_records([&](RefreshRecords& records) {
        records.forget_stale(request.now, request.cache_window);
        const std::optional<StoredRefresh> existing = records.find(key);
        c.kind = decide_claim(existing ? &*existing : nullptr, request);
        if (c.kind == ClaimKind::cached || c.kind == ClaimKind::chained) {
            c.cached = existing->result;
        } else if (c.kind == ClaimKind::acquired) {
            StoredRefresh claim;
            claim.in_flight = true;
            claim.claim_deadline = request.claim_deadline;
            c.recorded = records.put(key, claim);
        }
    });
    return c;
}

RefreshResult RefreshStore::publish(std::string_view key, const RefreshResult& result, MilliTime now,
                                    MilliTime cache_window) {
    RefreshResult standing = result;
    with_records([&](RefreshRecords& records) {
        const std::optional<StoredRefresh> existing = records.find(key);
        if (keeps_earlier_result(existing ? &*existing : nullptr, result, now, cache_window)) {
            standing = existing->result;
            return;
        }
        StoredRefresh done;
        done.stored_at = now;
        done.result = result;
        records.put(key, done);
    });
    return standing;
}

void RefreshStore::release(std::string_view key) {
    with_records([&](RefreshRecords& records) { records.erase(key); });
}

}  // namespace spotauth
