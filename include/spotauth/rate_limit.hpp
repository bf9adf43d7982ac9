// A bound on how often something may happen per key (a client address) and
// in total: token buckets refilled continuously, in bounded memory. Used to
// cap code exchanges, the one thing an unauthenticated visitor can make the
// module ask the provider for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace spotauth {

class RateLimiter {
public:
    using MilliTime = std::int64_t;

    // Up to `per_minute` events per key, refilled evenly over a minute (a
    // full bucket allows a burst of `per_minute`); 0 allows nothing. At most
    // `max_keys` keys are remembered: the least recently seen is forgotten.
    RateLimiter(std::uint32_t per_minute, std::size_t max_keys);

    // 0 when the event is allowed (and counted); otherwise how many
    // milliseconds until it would be.
    MilliTime take(std::string_view key, MilliTime now);

private:
    struct Bucket {
        double tokens;
        MilliTime updated;
    };
    using Entry = std::pair<std::string, Bucket>;

    double per_ms_;
    double capacity_;
    std::size_t max_keys_;
    std::list<Entry> lru_;  // front: most recently seen
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace spotauth
