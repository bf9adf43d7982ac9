// Drives RedisClient with a poll(2) loop against a small RESP server on
// 127.0.0.1: commands are cancellable by id (a cancelled reply reaches no
// one), and an error reply reaches the caller as an error, never as an
// answer.
#include "spotauth/redis.hpp"

#include "poll_loop.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <thread>

using namespace spotauth;

namespace {

using spotauth_test::now_ms;
using spotauth_test::PollLoop;

// Answers every command of one connection: PING with PONG, GET with an OOM
// error reply, anything else with its first argument as a bulk string.
class RespServer {
public:
    RespServer() {
        listener_ = spotauth_test::listen_on_loopback(4, port);
        thread_ = std::thread([this] { serve(); });
    }
    ~RespServer() {
        shutdown(listener_, SHUT_RDWR);
        if (conn_ >= 0) {
            shutdown(conn_, SHUT_RDWR);
        }
        thread_.join();
        close(listener_);
    }
    int port = 0;

private:
    void serve() {
        conn_ = accept(listener_, nullptr, nullptr);
        if (conn_ < 0) {
            return;
        }
        std::string in;
        char buf[4096];
        for (;;) {
            const ssize_t n = read(conn_, buf, sizeof buf);
            if (n <= 0) {
                break;
            }
            in.append(buf, static_cast<std::size_t>(n));
            while (auto argv = take_command(in)) {
                std::string reply = (*argv)[0] == "PING" ? "+PONG\r\n"
                                    : (*argv)[0] == "GET"
                                        ? "-OOM command not allowed\r\n"
                                        : "$" + std::to_string((*argv)[1].size()) + "\r\n" + (*argv)[1] + "\r\n";
                if (write(conn_, reply.data(), reply.size()) < 0) {
                    return;
                }
            }
        }
        close(conn_);
    }

    // One complete "*N\r\n$len\r\narg\r\n..." from the front of `in`.
    static std::optional<std::vector<std::string>> take_command(std::string& in) {
        std::size_t pos = 0;
        const auto line = [&in, &pos]() -> std::optional<std::string> {
            const auto end = in.find("\r\n", pos);
            if (end == std::string::npos) {
                return std::nullopt;
            }
            std::string l = in.substr(pos, end - pos);
            pos = end + 2;
            return l;
        };
        const auto count = line();
        if (!count || count->empty() || (*count)[0] != '*') {
            return std::nullopt;
        }
        std::vector<std::string> argv;
        for (int i = 0; i < std::stoi(count->substr(1)); ++i) {
            const auto size = line();
            if (!size) {
                return std::nullopt;
            }
            const auto bytes = static_cast<std::size_t>(std::stoi(size->substr(1)));
            if (in.size() < pos + bytes + 2) {
                return std::nullopt;
            }
            argv.push_back(in.substr(pos, bytes));
            pos += bytes + 2;
        }
        in.erase(0, pos);
        return argv;
    }

    int listener_ = -1;
    std::atomic<int> conn_{-1};
    std::thread thread_;
};

struct RedisClientTest : ::testing::Test {
    RespServer server;
    PollLoop loop;
    bool up = false;
    RedisClient client{loop, RedisEndpoint{"127.0.0.1", server.port, "", 0, ""}, RedisTiming{}, &now_ms,
                       [this](bool is_up, const std::string&) { up = is_up; }};
};

}  // namespace

TEST_F(RedisClientTest, ACancelledCommandsReplyReachesNoOne) {
    client.start();
    loop.run(client, [this] { return up; });
    ASSERT_TRUE(up);
    bool cancelled_ran = false;
    std::optional<RedisValue> echoed;
    const auto id = client.command({"ECHO", "first"}, [&](const std::optional<RedisValue>&) { cancelled_ran = true; });
    client.command({"ECHO", "second"}, [&](const std::optional<RedisValue>& v) { echoed = v; });
    client.cancel(id);
    loop.run(client, [&] { return echoed.has_value(); });
    ASSERT_TRUE(echoed);
    EXPECT_EQ(echoed->text, "second");
    EXPECT_FALSE(cancelled_ran);
    client.cancel(id);  // finished or unknown ids are ignored
    client.cancel(999999);
}

TEST_F(RedisClientTest, AnErrorReplyIsAnErrorNotAnAnswer) {
    client.start();
    loop.run(client, [this] { return up; });
    std::optional<std::optional<RedisValue>> got;
    client.command({"GET", "k"}, [&](const std::optional<RedisValue>& v) { got = v; });
    loop.run(client, [&] { return got.has_value(); });
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((*got)->kind, RedisValue::Kind::error);
    EXPECT_FALSE(redis_answered(*got));
    EXPECT_EQ(redis_error_kind((*got)->text), RedisErrorKind::oom);
}

TEST_F(RedisClientTest, ACommandWhileDownIsUnavailableLaterAndCancellable) {
    std::optional<std::optional<RedisValue>> got;
    bool cancelled_ran = false;
    client.command({"ECHO", "x"}, [&](const std::optional<RedisValue>& v) { got = v; });
    const auto id = client.command({"ECHO", "y"}, [&](const std::optional<RedisValue>&) { cancelled_ran = true; });
    EXPECT_FALSE(got);  // never from inside command()
    client.cancel(id);
    loop.run(client, [&] { return got.has_value(); });
    ASSERT_TRUE(got);
    EXPECT_FALSE(*got);  // unavailable
    EXPECT_FALSE(cancelled_ran);
}

TEST(RedisUrl, TcpForms) {
    auto ep = parse_redis_url("redis://127.0.0.1:6380/2");
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->host, "127.0.0.1");
    EXPECT_EQ(ep->port, 6380);
    EXPECT_EQ(ep->db, 2);
    EXPECT_TRUE(ep->password.empty());
    ep = parse_redis_url("redis://:s%40cret@redis.internal");
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->host, "redis.internal");
    EXPECT_EQ(ep->port, 6379);
    EXPECT_EQ(ep->password, "s@cret");
    ep = parse_redis_url("redis://[::1]:7000");
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->host, "::1");
    EXPECT_EQ(ep->port, 7000);
}

TEST(RedisUrl, UnixSocket) {
    const auto ep = parse_redis_url("unix:/run/redis/redis.sock?db=3");
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->unix_path, "/run/redis/redis.sock");
    EXPECT_EQ(ep->db, 3);
}

TEST(RedisUrl, MistakesAreNamed) {
    EXPECT_NE(parse_redis_url("http://x").error().find("redis:// or unix:"), std::string::npos);
    EXPECT_NE(parse_redis_url("redis://host:99999").error().find("invalid port"), std::string::npos);
    EXPECT_NE(parse_redis_url("redis://host/x").error().find("database number"), std::string::npos);
    EXPECT_NE(parse_redis_url("redis://").error().find("no host"), std::string::npos);
    EXPECT_NE(parse_redis_url("unix:relative").error().find("absolute"), std::string::npos);
}
