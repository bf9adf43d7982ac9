// Redis for a fleet of machines: where to find it (spotauth_redis), and a
// client that never waits, over an EventLoop like the HTTP client: hiredis's
// asynchronous API, every command bounded by a timeout, reconnecting with
// backoff. A command Redis cannot answer (down, slow, not connected)
// completes with no value at once or at its timeout, so callers fall back
// to what one machine can do.
#pragma once

#include "spotauth/event_loop.hpp"
#include "spotauth/expected.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth {

struct RedisEndpoint {
    std::string host;  // a name or address (tcp)
    int port = 6379;
    std::string unix_path;  // set instead of host for unix:/path
    int db = 0;
    std::string password;  // from the URL or spotauth_redis_password_file
};

// redis://[:password@]host[:port][/db] or unix:/path[?db=N]
Expected<RedisEndpoint> parse_redis_url(std::string_view url);

// A reply, reduced to what the module reads.
struct RedisValue {
    enum class Kind { nil, string, integer, array, error, status };
    Kind kind = Kind::nil;
    std::string text;  // string, error, status
    long long integer = 0;
    std::vector<RedisValue> elements;
};

// What an error reply says is wrong, for spotauth_redis_errors_total.
enum class RedisErrorKind { oom, readonly, noauth, loading, other };
RedisErrorKind redis_error_kind(std::string_view error_text);
const char* redis_error_label(RedisErrorKind kind);  // "oom", "readonly", ...

// True for a reply that answers a command: not a missing reply and not an
// error reply (an error reply is never taken for an answer).
bool redis_answered(const std::optional<RedisValue>& reply);

// The few Redis operations the fleet's core code needs: commands that may
// fail, each with an id by which its caller can forget it. RedisClient is
// the real one; unit tests give a fake.
class RedisCommands {
public:
    using CommandId = std::uint64_t;
    using Reply = std::function<void(const std::optional<RedisValue>&)>;  // nullopt: unavailable

    virtual ~RedisCommands() = default;

    // Sends `argv`; `done` runs later (never from inside command()), with
    // the reply (an error reply included), or nullopt when Redis did not
    // answer in time or is down.
    virtual CommandId command(std::vector<std::string> argv, Reply done) = 0;

    // `done` of that command will not run (the command itself may still
    // reach Redis). Unknown or finished ids are ignored.
    virtual void cancel(CommandId id) = 0;

    virtual bool up() const = 0;
};

struct RedisTiming {
    long connect_timeout_ms = 1000;
    long command_timeout_ms = 500;
    long backoff_first_ms = 100;
    long backoff_max_ms = 5000;
};

class RedisClient : public EventSink, public RedisCommands {
public:
    // Called when the connection comes up (true) or goes down (false, why).
    using StateChange = std::function<void(bool up, const std::string& why)>;
    using Clock = std::function<std::int64_t()>;  // milliseconds

    // `endpoint.host` must be an address: names are resolved before (at
    // configuration time), never by a worker.
    RedisClient(EventLoop& loop, RedisEndpoint endpoint, RedisTiming timing, Clock clock, StateChange on_state);
    ~RedisClient() override;
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Starts connecting (and keeps reconnecting while down).
    void start();

    bool up() const override;

    // As RedisCommands; `done` never runs once the client is destroyed.
    CommandId command(std::vector<std::string> argv, Reply done) override;
    void cancel(CommandId id) override;

    void on_socket_ready(int fd, int events) override;
    void on_timeout() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace spotauth
