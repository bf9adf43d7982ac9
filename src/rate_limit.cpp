#include "spotauth/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace spotauth {

RateLimiter::RateLimiter(std::uint32_t per_minute, std::size_t max_keys)
    : per_ms_(per_minute / 60000.0), capacity_(per_minute), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

RateLimiter::MilliTime RateLimiter::take(std::string_view key, MilliTime now) {
    if (capacity_ < 1) {
        return 60000;
    }
    auto it = index_.find(key);
    if (it == index_.end()) {
        if (index_.size() >= max_keys_) {
            index_.erase(lru_.back().first);
            lru_.pop_back();
        }
        lru_.emplace_front(std::string(key), Bucket{capacity_, now});
        it = index_.emplace(lru_.front().first, lru_.begin()).first;
    } else {
        lru_.splice(lru_.begin(), lru_, it->second);
    }
    Bucket& b = it->second->second;
    b.tokens = std::min(capacity_, b.tokens + static_cast<double>(std::max<MilliTime>(now - b.updated, 0)) * per_ms_);
    b.updated = now;
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
    }
    return std::max<MilliTime>(1, static_cast<MilliTime>(std::ceil((1 - b.tokens) / per_ms_)));
}

}  // namespace spotauth
