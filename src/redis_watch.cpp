// Counting and reporting Redis's error replies (see redis_watch.hpp).
#include "spotauth/redis_watch.hpp"

namespace spotauth {

RedisCommands::CommandId RedisErrorWatch::command(std::vector<std::string> argv, Reply done) {
    return inner_.command(std::move(argv), [this, done = std::move(done)](const std::optional<RedisValue>& v) {
        saw(v);
        done(v);
    });
}

bool RedisErrorWatch::refusing() const { return ever_refused_ && clock_() - last_error_at_ < kRedisRefusingMs; }

void RedisErrorWatch::saw(const std::optional<RedisValue>& v) {
    if (!v || v->kind != RedisValue::Kind::error) {
        return;
    }
    const bool outage_starts = !refusing();
    ever_refused_ = true;
    last_error_at_ = clock_();
    if (report_) {
        report_(redis_error_kind(v->text), outage_starts, v->text);
    }
}

}  // namespace spotauth
