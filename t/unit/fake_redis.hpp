// A Redis for unit tests: it keeps every command sent and answers only when
// the test says, with whatever reply the test gives (a value moved from
// another key, an error reply, none at all).
#pragma once

#include "spotauth/redis.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace spotauth::testing {

class FakeRedis : public RedisCommands {
public:
    struct Sent {
        CommandId id;
        std::vector<std::string> argv;
        Reply done;
    };

    CommandId command(std::vector<std::string> argv, Reply done) override {
        sent.push_back({++last, std::move(argv), std::move(done)});
        return last;
    }
    void cancel(CommandId id) override {
        for (auto it = sent.begin(); it != sent.end(); ++it) {
            if (it->id == id) {
                sent.erase(it);
                ++cancelled;
                return;
            }
        }
    }
    bool up() const override { return is_up; }

    // The oldest unanswered command, removed and answered with `reply`.
    std::vector<std::string> answer(const std::optional<RedisValue>& reply) {
        EXPECT_FALSE(sent.empty());
        if (sent.empty()) {
            return {};
        }
        Sent s = std::move(sent.front());
        sent.erase(sent.begin());
        s.done(reply);
        return s.argv;
    }
    // The oldest unanswered command whose first word is `verb`, answered.
    std::vector<std::string> answer(const std::string& verb, const std::optional<RedisValue>& reply) {
        for (auto it = sent.begin(); it != sent.end(); ++it) {
            if (it->argv[0] == verb) {
                Sent s = std::move(*it);
                sent.erase(it);
                s.done(reply);
                return s.argv;
            }
        }
        ADD_FAILURE() << "no " << verb << " sent";
        return {};
    }
    const std::vector<std::string>& next() const { return sent.front().argv; }

    static RedisValue status(std::string text) { return {RedisValue::Kind::status, std::move(text), 0, {}}; }
    static RedisValue string(std::string text) { return {RedisValue::Kind::string, std::move(text), 0, {}}; }
    static RedisValue integer(long long n) { return {RedisValue::Kind::integer, "", n, {}}; }
    static RedisValue nil() { return {}; }
    static RedisValue error(std::string text) { return {RedisValue::Kind::error, std::move(text), 0, {}}; }
    static RedisValue array(std::vector<RedisValue> elements) {
        return {RedisValue::Kind::array, "", 0, std::move(elements)};
    }

    std::vector<Sent> sent;
    CommandId last = 0;
    int cancelled = 0;
    bool is_up = true;
};

}  // namespace spotauth::testing
