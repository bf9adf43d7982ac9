#include "spotauth/fleet.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace spotauth {
namespace {

using json = nlohmann::json;

std::string claim_key(const std::string& key) { return "spotauth:claim:" + key; }
std::string result_key(const std::string& key) { return "spotauth:result:" + key; }

// The stored result if there is one, else SET NX the claim: one round trip.
constexpr const char* kClaimScript = R"(local r = redis.call('GET', KEYS[2])
if r then return {'result', r} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'acquired'} end
return {'busy'})";

std::string claim_ttl_ms(const ClaimRequest& request) {
    return std::to_string(std::max<MilliTime>(request.claim_deadline - request.now, 1));
}

bool is_ok(const std::optional<RedisValue>& v) {
    return v && v->kind != RedisValue::Kind::error;
}

}  // namespace

std::optional<std::string> seal_refresh_result(const KeyRing& keys, const RefreshResult& r) {
    const json doc = {{"typ", "refresh"},
                      {"outcome", static_cast<int>(r.outcome)},
                      {"access_token", r.access_token},
                      {"refresh_token", r.refresh_token},
                      {"access_expires_at", r.access_expires_at},
                      {"access_issued_at", r.access_issued_at},
                      {"error", r.error}};
    return keys.seal(doc.dump());
}

std::optional<RefreshResult> open_refresh_result(const KeyRing& keys, std::string_view sealed) {
    const auto opened = keys.open(sealed);
    if (!opened) {
        return std::nullopt;
    }
    const json doc = json::parse(opened->plaintext, nullptr, false);
    if (!doc.is_object() || doc.value("typ", "") != "refresh") {
        return std::nullopt;
    }
    RefreshResult r;
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
    if (r.outcome == TokenOutcome::permanent) {
        r.description = "refresh token refused (remembered by another machine)";
    }
    return r;
}

void RedisFleetStore::claim(const std::string& key, const ClaimRequest& request, const KeyRing& keys, Done done) {
    redis_.command(
        {"EVAL", kClaimScript, "2", claim_key(key), result_key(key), "1", claim_ttl_ms(request)},
        [this, key, request, &keys, done = std::move(done)](const std::optional<RedisValue>& v) {
            if (!is_ok(v) || v->kind != RedisValue::Kind::array || v->elements.empty()) {
                done({Kind::unavailable, {}});
                return;
            }
            const std::string& what = v->elements[0].text;
            if (what == "acquired") {
                done({Kind::acquired, {}});
                return;
            }
            if (what == "busy") {
                done({Kind::busy, {}});
                return;
            }
            const auto result = v->elements.size() > 1 ? open_refresh_result(keys, v->elements[1].text) : std::nullopt;
            if (result) {
                // The same rules as the zone's: fresh enough, not the refused
                // token. A result that rotated the token sent but is due
                // again is handed over too: the machine's store records it,
                // and its next refresh continues the chain from there.
                const StoredRefresh stored{false, 0, request.now, *result};
                const ClaimKind kind = decide_claim(&stored, request);
                if (kind == ClaimKind::cached || kind == ClaimKind::chained) {
                    done({Kind::cached, *result});
                    return;
                }
            }
            acquire(key, request, done);  // unusable (or unreadable): refresh again
        });
}

void RedisFleetStore::acquire(const std::string& key, const ClaimRequest& request, Done done) {
    redis_.command({"SET", claim_key(key), "1", "NX", "PX", claim_ttl_ms(request)},
                   [done = std::move(done)](const std::optional<RedisValue>& v) {
                       if (!is_ok(v)) {
                           done({Kind::unavailable, {}});
                       } else {
                           done({v->kind == RedisValue::Kind::nil ? Kind::busy : Kind::acquired, {}});
                       }
                   });
}

void RedisFleetStore::publish(const std::string& key, const RefreshResult& result, const KeyRing& keys,
                              MilliTime cache_window) {
    const auto sealed = seal_refresh_result(keys, result);
    if (sealed) {
        std::vector<std::string> set = {"SET", result_key(key), *sealed, "PX", std::to_string(cache_window)};
        if (result.outcome == TokenOutcome::permanent) {
            set.push_back("NX");  // never over another machine's success (keeps_earlier_result)
        }
        redis_.command(std::move(set), [](const std::optional<RedisValue>&) {});
    }
    release(key);
}

void RedisFleetStore::release(const std::string& key) {
    redis_.command({"DEL", claim_key(key)}, [](const std::optional<RedisValue>&) {});
}

}  // namespace spotauth
