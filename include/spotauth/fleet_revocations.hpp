// Logouts shared by the fleet through Redis: the sorted set
// "spotauth:revoked", members "<sid> <until>" scored by Redis's own time (ms)
// of the logout, pruned once older than the session lifetime (no cookie it
// revoked can still be presented then).
//
// Nothing is lost whatever Redis is doing: a logout stays in this worker's
// outbox, retried with backoff, until Redis acknowledges it with a real
// reply. Reads are paged (LIMIT) from a cursor, the last score read,
// inclusive of it with the members already seen there skipped, so two
// logouts in the same millisecond are both learned and a large set never
// needs one long read. A full page is followed by the next at once, so a new
// worker catches up in pages before the next poll.
#pragma once

#include "spotauth/redis.hpp"
#include "spotauth/session.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace spotauth {

struct RevocationTiming {
    std::int64_t poll_ms = 500;         // between reads while caught up
    std::int64_t retry_first_ms = 100;  // an unacknowledged logout is sent again after this...
    std::int64_t retry_max_ms = 1000;   // ...doubling up to this
    std::size_t page = 1000;            // members per read
    std::int64_t lifetime_ms = 0;       // spotauth_session_lifetime: the set keeps logouts this long
    std::size_t outbox_limit = 100000;  // logouts kept while Redis does not take them
};

class FleetRevocations {
public:
    using Clock = std::function<std::int64_t()>;  // milliseconds
    using Learn = std::function<void(const std::string& sid, UnixTime until)>;

    FleetRevocations(RedisCommands& redis, Clock clock, RevocationTiming timing, Learn learn);
    ~FleetRevocations();
    FleetRevocations(const FleetRevocations&) = delete;
    FleetRevocations& operator=(const FleetRevocations&) = delete;

    // A logout for the fleet: sent now and kept until Redis takes it (or
    // the session it ends would have expired anyway, at `until`).
    // `now_s`: the present in seconds.
    void revoke(const std::string& sid, UnixTime until, UnixTime now_s);

    // Sends what is due from the outbox and reads the next page when due.
    // Call every ~100 ms and when Redis comes up.
    void tick(UnixTime now_s);

    // Redis came up: everything waiting is sent at the next tick.
    void connected();

    std::size_t outbox_size() const { return outbox_.size(); }
    // False False until the first read reached the end of the set.
    bool caught_up() const { return caught_up_; }
    // Logouts dropped because the outbox was full (cumulative).
    std::uint64_t dropped() const { return dropped_; }

private:
    struct Pending {
        UnixTime until = 0;
        std::int64_t next_try = 0;
        std::int64_t backoff = 0;
        RedisCommands::CommandId in_flight = 0;
    };

    void send(const std::string& sid, Pending& entry);
    void on_sent(const std::string& sid, const std::optional<RedisValue>& reply);
    void read_page();
    void on_page(const std::optional<RedisValue>& reply);
    void make_room(UnixTime now_s);

    RedisCommands& redis_;
    Clock clock_;
    RevocationTiming timing_;
    Learn learn_;
    std::map<std::string, Pending> outbox_;  // sid -> its logout, until acknowledged
    std::uint64_t dropped_ = 0;
    // The read cursor: the last score read and the members read at it.
    std::string cursor_ = "-inf";
    std::set<std::string> seen_at_cursor_;
    bool stalled_ = false;  // a whole page at the cursor's score: skip them by offset
    RedisCommands::CommandId reading_ = 0;
    std::int64_t next_read_ = 0;
    bool caught_up_ = false;
};

// A member of the set: "<sid> <until>"; nullopt when it is not one.
struct RevocationMember {
    std::string sid;
    UnixTime until = 0;
};
std::optional<RevocationMember> parse_revocation_member(std::string_view member);

}  // namespace spotauth
