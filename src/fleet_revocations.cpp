// Logouts across the fleet on Redis (see fleet_revocations.hpp).
#include "spotauth/fleet_revocations.hpp"

#include <algorithm>
#include <charconv>

namespace spotauth {
namespace {

constexpr const char* kRevokedKey = "spotauth:revoked";

// Records a logout at Redis's own time (no clock skew between machines),
// unless Redis has it already (a logout sent again by a new worker keeps its
// score, so nobody reads it again), and forgets those older than the
// session lifetime (ARGV[2], ms): no cookie they revoked can still be
// presented.
constexpr const char* kRevokeScript = R"(local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'NX', ms, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[2]))
return ms)";

std::string member_of(const std::string& sid, UnixTime until) { return sid + " " + std::to_string(until); }

}  // namespace

std::optional<RevocationMember> parse_revocation_member(std::string_view member) {
    const auto space = member.find(' ');
    if (space == std::string_view::npos || space == 0) {
        return std::nullopt;
    }
    RevocationMember m;
    m.sid = std::string(member.substr(0, space));
    const std::string_view until = member.substr(space + 1);
    const auto [end, ec] = std::from_chars(until.data(), until.data() + until.size(), m.until);
    if (ec != std::errc() || end != until.data() + until.size()) {
        return std::nullopt;
    }
    return m;
}

FleetRevocations::FleetRevocations(RedisCommands& redis, Clock clock, RevocationTiming timing, Learn learn)
    : redis_(redis), clock_(std::move(clock)), timing_(timing), learn_(std::move(learn)) {}

// Our callbacks capture `this`: none may run once we are gone.
FleetRevocations::~FleetRevocations() {
    for (const auto& [sid, entry] : outbox_) {
        if (entry.in_flight != 0) {
            redis_.cancel(entry.in_flight);
        }
    }
    if (reading_ != 0) {
        redis_.cancel(reading_);
    }
}

void FleetRevocations::revoke(const std::string& sid, UnixTime until, UnixTime now_s) {
    if (until <= now_s) {
        return;
    }
    if (outbox_.find(sid) == outbox_.end() && outbox_.size() >= timing_.outbox_limit) {
        make_room(now_s);
        if (outbox_.size() >= timing_.outbox_limit) {
            ++dropped_;
            return;
        }
    }
    Pending& entry = outbox_[sid];
    entry.until = until;
    entry.backoff = timing_.retry_first_ms;
    if (entry.in_flight == 0) {
        send(sid, entry);
    }
}

// Logouts of sessions that have ended anyway need not reach anyone.
void FleetRevocations::make_room(UnixTime now_s) {
    for (auto it = outbox_.begin(); it != outbox_.end();) {
        if (it->second.until <= now_s && it->second.in_flight == 0) {
            it = outbox_.erase(it);
        } else {
            ++it;
        }
    }
}

void FleetRevocations::send(const std::string& sid, Pending& entry) {
    entry.next_try = clock_() + entry.backoff;
    entry.backoff = std::min(entry.backoff * 2, timing_.retry_max_ms);
    entry.in_flight = redis_.command(
        {"EVAL", kRevokeScript, "1", kRevokedKey, member_of(sid, entry.until), std::to_string(timing_.lifetime_ms)},
        [this, sid](const std::optional<RedisValue>& v) { on_sent(sid, v); });
}

// Only a real reply (the score) acknowledges: an error reply (OOM,
// READONLY...) or none leaves the logout in the outbox.
void FleetRevocations::on_sent(const std::string& sid, const std::optional<RedisValue>& v) {
    const auto it = outbox_.find(sid);
    if (it == outbox_.end()) {
        return;
    }
    it->second.in_flight = 0;
    if (redis_answered(v) && v->kind == RedisValue::Kind::integer) {
        outbox_.erase(it);
    }
}

void FleetRevocations::connected() {
    for (auto& [sid, entry] : outbox_) {
        entry.next_try = 0;
        entry.backoff = timing_.retry_first_ms;
    }
    next_read_ = 0;
}

void FleetRevocations::tick(UnixTime now_s) {
    const std::int64_t now = clock_();
    make_room(now_s);
    if (redis_.up()) {
        for (auto& [sid, entry] : outbox_) {
            if (entry.in_flight == 0 && entry.next_try <= now) {
                send(sid, entry);
            }
        }
    }
    if (reading_ == 0 && now >= next_read_ && redis_.up()) {
        read_page();
    }
}

void FleetRevocations::read_page() {
    const std::size_t offset = stalled_ ? seen_at_cursor_.size() : 0;
    reading_ = redis_.command({"ZRANGEBYSCORE", kRevokedKey, cursor_, "+inf", "WITHSCORES", "LIMIT",
                               std::to_string(offset), std::to_string(timing_.page)},
                              [this](const std::optional<RedisValue>& v) { on_page(v); });
}

void FleetRevocations::on_page(const std::optional<RedisValue>& v) {
    reading_ = 0;
    next_read_ = clock_() + timing_.poll_ms;
    if (!redis_answered(v) || v->kind != RedisValue::Kind::array) {
        return;
    }
    const std::size_t count = v->elements.size() / 2;
    for (std::size_t i = 0; i + 1 < v->elements.size(); i += 2) {
        const std::string& member = v->elements[i].text;
        const std::string& score = v->elements[i + 1].text;
        if (score != cursor_) {
            cursor_ = score;
            seen_at_cursor_.clear();
        }
        if (!seen_at_cursor_.insert(member).second) {
            continue;  // read before, at the inclusive end of the last page
        }
        if (const auto m = parse_revocation_member(member)) {
            learn_(m->sid, m->until);
        }
    }
    const bool full = count >= timing_.page;
    // Sorted by score: the first at the last one's score means all are.
    stalled_ = full && v->elements[1].text == cursor_;
    if (full) {
        read_page();  // more to read: the next page at once
    } else {
        caught_up_ = true;
    }
}

}  // namespace spotauth
