// Refresh results and claims in Redis (see fleet.hpp).
#include "spotauth/fleet.hpp"

#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace spotauth {
namespace {

using json = nlohmann::json;

std::string claim_key(const std::string& key) { return "spotauth:claim:" + key; }
std::string result_key(const std::string& key) { return "spotauth:result:" + key; }

// What a sealed result is bound to: its kind and the key it is stored under.
std::string result_context(std::string_view key) {
    std::string context = "spotauth refresh result\n";
    context += key;
    return context;
}

constexpr std::size_t kOwnerBytes = 16;

// The stored result if there is one, else SET NX the claim: one round trip.
constexpr const char* kClaimScript = R"(local r = redis.call('GET', KEYS[2])
if r then return {'result', r} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'acquired'} end
return {'busy'})";

// Compare-and-delete: a claim that lapsed and was taken by another machine
// is not ours to end.
constexpr const char* kReleaseScript = R"(if redis.call('GET', KEYS[1]) == ARGV[1] then
return redis.call('DEL', KEYS[1]) end
return 0)";

std::string claim_ttl_ms(const ClaimRequest& request) {
    return std::to_string(std::max<MilliTime>(request.claim_deadline - request.now, 1));
}

std::optional<std::string> new_owner() {
    const auto bytes = random_bytes(kOwnerBytes);
    return bytes ? std::optional<std::string>(base64url_encode(*bytes)) : std::nullopt;
}

}  // namespace

std::optional<std::string> seal_refresh_result(const KeyRing& keys, std::string_view key, const RefreshResult& r,
                                               MilliTime stored_at) {
    const json doc = {{"typ", "refresh"},
                      {"outcome", static_cast<int>(r.outcome)},
                      {"access_token", r.access_token},
                      {"refresh_token", r.refresh_token},
                      {"access_expires_at", r.access_expires_at},
                      {"access_issued_at", r.access_issued_at},
                      {"error", r.error},
                      {"stored_at", stored_at}};
    return keys.seal_bound(doc.dump(), result_context(key));
}

std::optional<OpenedRefreshResult> open_refresh_result(const KeyRing& keys, std::string_view key,
                                                       std::string_view sealed) {
    const auto opened = keys.open_bound(sealed, result_context(key));
    if (!opened) {
        return std::nullopt;
    }
    const json doc = json::parse(*opened, nullptr, false);
    if (!doc.is_object() || doc.value("typ", "") != "refresh") {
        return std::nullopt;
    }
    OpenedRefreshResult out;
    RefreshResult& r = out.result;
    const int outcome = doc.value("outcome", -1);
    if (outcome != static_cast<int>(TokenOutcome::ok) && outcome != static_cast<int>(TokenOutcome::permanent)) {
        return std::nullopt;
    }
    r.outcome = static_cast<TokenOutcome>(outcome);
    r.access_token = doc.value("access_token", "");
    r.refresh_token = doc.value("refresh_token", "");
    r.access_expires_at = doc.value("access_expires_at", UnixTime{0});
    r.access_issued_at = doc.value("access_issued_at", UnixTime{0});
    r.error = doc.value("error", "");
    out.stored_at = doc.value("stored_at", MilliTime{0});
    if (r.outcome == TokenOutcome::permanent) {
        r.description = "refresh token refused (remembered by another machine)";
    }
    return out;
}

void RedisFleetStore::claim(const std::string& key, const ClaimRequest& request, const KeyRing& keys, Done done) {
    const auto owner = new_owner();
    if (!owner) {
        redis_.command({"PING"}, [done = std::move(done)](const std::optional<RedisValue>&) {
            done({Kind::unavailable, {}});  // later, never from inside claim()
        });
        return;
    }
    redis_.command({"EVAL", kClaimScript, "2", claim_key(key), result_key(key), *owner, claim_ttl_ms(request)},
                   [this, key, owner = *owner, request, &keys, done = std::move(done)](
                       const std::optional<RedisValue>& v) { on_claim_reply(key, owner, request, keys, v, done); });
}

void RedisFleetStore::on_claim_reply(const std::string& key, const std::string& owner, const ClaimRequest& request,
                                     const KeyRing& keys, const std::optional<RedisValue>& v, const Done& done) {
    if (!redis_answered(v) || v->kind != RedisValue::Kind::array || v->elements.empty()) {
        done({Kind::unavailable, {}});
        return;
    }
    const std::string& what = v->elements[0].text;
    if (what == "acquired") {
        owners_[key] = owner;
        done({Kind::acquired, {}});
        return;
    }
    if (what == "busy") {
        done({Kind::busy, {}});
        return;
    }
    if (what == "result" && v->elements.size() > 1) {
        if (const auto result = usable_result(key, request, keys, v->elements[1].text)) {
            done({Kind::cached, *result});
            return;
        }
    }
    acquire(key, request, done);  // unusable, unreadable or moved here: refresh again
}

// The result as this request may use it, or nullopt.
std::optional<RefreshResult> RedisFleetStore::usable_result(const std::string& key, const ClaimRequest& request,
                                                            const KeyRing& keys, const std::string& sealed) {
    const auto opened = open_refresh_result(keys, key, sealed);
    if (!opened) {
        if (tampered_) {
            tampered_();
        }
        return std::nullopt;
    }
    // A copy replayed after its window (Redis's expiry can be set by anyone
    // who can write to it) is too old; one from the future, forged.
    if (opened->stored_at > request.now + kFleetClockSkewMs) {
        if (tampered_) {
            tampered_();
        }
        return std::nullopt;
    }
    // The same rules as the zone's: fresh enough, not the refused token. A
    // result that rotated the token sent but is due again is handed over
    // too: the machine's store records it, and its next refresh continues
    // the chain from there.
    const StoredRefresh stored{false, 0, std::min(opened->stored_at, request.now), opened->result};
    const ClaimKind kind = decide_claim(&stored, request);
    if (kind == ClaimKind::cached || kind == ClaimKind::chained) {
        return opened->result;
    }
    return std::nullopt;
}

void RedisFleetStore::acquire(const std::string& key, const ClaimRequest& request, Done done) {
    const auto owner = new_owner();
    if (!owner) {
        done({Kind::unavailable, {}});  // already inside a reply: not from inside claim()
        return;
    }
    redis_.command({"SET", claim_key(key), *owner, "NX", "PX", claim_ttl_ms(request)},
                   [this, key, owner = *owner, done = std::move(done)](const std::optional<RedisValue>& v) {
                       if (!redis_answered(v)) {
                           done({Kind::unavailable, {}});
                       } else if (v->kind == RedisValue::Kind::nil) {
                           done({Kind::busy, {}});
                       } else {
                           owners_[key] = owner;
                           done({Kind::acquired, {}});
                       }
                   });
}

void RedisFleetStore::publish(const std::string& key, const RefreshResult& result, const KeyRing& keys,
                              MilliTime cache_window) {
    const auto sealed = seal_refresh_result(keys, key, result, clock_());
    if (sealed) {
        std::vector<std::string> set = {"SET", result_key(key), *sealed, "PX", std::to_string(cache_window)};
        if (result.outcome == TokenOutcome::permanent) {
            set.push_back("NX");  // never over another machine's success (keeps_earlier_result)
        }
        redis_.command(std::move(set), [](const std::optional<RedisValue>&) {});
    }
    release_owned(key);
}

void RedisFleetStore::release(const std::string& key) { release_owned(key); }

void RedisFleetStore::release_owned(const std::string& key) {
    const auto it = owners_.find(key);
    if (it == owners_.end()) {
        return;  // not ours (or never recorded): nothing to end
    }
    redis_.command({"EVAL", kReleaseScript, "1", claim_key(key), it->second}, [](const std::optional<RedisValue>&) {});
    owners_.erase(it);
}

}  // namespace spotauth
