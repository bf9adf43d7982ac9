// Drives HttpClient with a poll(2) loop against a one-shot HTTP server on
// 127.0.0.1, the way the nginx glue drives it with nginx events.
#include "spotauth/http_client.hpp"

#include "poll_loop.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <thread>

using namespace spotauth;

namespace {

using spotauth_test::PollLoop;

// Accepts one connection, records the request, answers `reply` (or nothing
// for `stall` seconds).
class OneShotServer {
public:
    explicit OneShotServer(std::string reply, int stall_seconds = 0) {
        listener_ = spotauth_test::listen_on_loopback(1, port_);
        thread_ = std::thread([this, reply = std::move(reply), stall_seconds] {
            const int conn = accept(listener_, nullptr, nullptr);
            char buf[4096];
            const ssize_t n = read(conn, buf, sizeof buf);
            request_.assign(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
            std::this_thread::sleep_for(std::chrono::seconds(stall_seconds));
            if (write(conn, reply.data(), reply.size()) < 0) {
                request_ += "(write failed)";
            }
            close(conn);
        });
    }
    ~OneShotServer() {
        thread_.join();
        close(listener_);
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    const std::string& request() const { return request_; }

private:
    int listener_ = -1;
    int port_ = 0;
    std::thread thread_;
    std::string request_;
};

std::string http_reply(const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

TEST(HttpClient, PostsAndReceivesBody) {
    OneShotServer server(http_reply(R"({"ok":true})"));
    PollLoop loop;
    HttpClient client(loop);
    std::optional<HttpResponse> got;
    HttpRequest req;
    req.url = server.url("/api/token");
    req.headers = {"Authorization: Basic eDp5"};
    req.post_body = "grant_type=refresh_token";
    ASSERT_NE(client.start(req, [&](const HttpResponse& r) { got = r; }), 0u);
    EXPECT_FALSE(got) << "completion must not run inside start()";
    loop.run(
        client, [&] { return client.in_flight() == 0; }, std::chrono::seconds(5));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(got->body, R"({"ok":true})");
    EXPECT_NE(server.request().find("POST /api/token HTTP/1.1"), std::string::npos);
    EXPECT_NE(server.request().find("Authorization: Basic eDp5"), std::string::npos);
    EXPECT_NE(server.request().find("grant_type=refresh_token"), std::string::npos);
}

TEST(HttpClient, BoundsTheResponseBody) {
    OneShotServer server(http_reply(std::string(100000, 'x')));
    PollLoop loop;
    HttpClient client(loop);
    std::optional<HttpResponse> got;
    HttpRequest req;
    req.url = server.url("/");
    req.max_response_bytes = 1000;
    client.start(req, [&](const HttpResponse& r) { got = r; });
    loop.run(
        client, [&] { return client.in_flight() == 0; }, std::chrono::seconds(5));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 0);
    EXPECT_NE(got->error.find("larger than 1000"), std::string::npos);
}

TEST(HttpClient, TimesOutAStalledServer) {
    OneShotServer server(http_reply("late"), 2);
    PollLoop loop;
    HttpClient client(loop);
    std::optional<HttpResponse> got;
    HttpRequest req;
    req.url = server.url("/");
    req.total_timeout_ms = 300;
    client.start(req, [&](const HttpResponse& r) { got = r; });
    loop.run(
        client, [&] { return client.in_flight() == 0; }, std::chrono::seconds(5));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 0);
    EXPECT_FALSE(got->error.empty());
}

TEST(HttpClient, ReportsConnectionRefused) {
    PollLoop loop;
    HttpClient client(loop);
    std::optional<HttpResponse> got;
    HttpRequest req;
    req.url = "http://127.0.0.1:1/";
    client.start(req, [&](const HttpResponse& r) { got = r; });
    loop.run(
        client, [&] { return client.in_flight() == 0; }, std::chrono::seconds(5));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 0);
}

TEST(HttpClient, CancelledTransferNeverCompletes) {
    OneShotServer server(http_reply("{}"));
    PollLoop loop;
    HttpClient client(loop);
    bool called = false;
    HttpRequest req;
    req.url = server.url("/");
    const auto id = client.start(req, [&](const HttpResponse&) { called = true; });
    client.cancel(id);
    client.cancel(id);  // twice is harmless
    EXPECT_EQ(client.in_flight(), 0u);
    loop.run(
        client, [&] { return client.in_flight() == 0; }, std::chrono::milliseconds(200));
    EXPECT_FALSE(called);
    // Unblock the server thread, which waits for a request.
    HttpRequest poke;
    poke.url = server.url("/");
    client.start(poke, [](const HttpResponse&) {});
    loop.run(
        client, [&] { return client.in_flight() == 0; }, std::chrono::seconds(5));
}

TEST(HttpClient, RefusesNonHttpSchemes) {
    PollLoop loop;
    HttpClient client(loop);
    std::optional<HttpResponse> got;
    HttpRequest req;
    req.url = "file:///etc/passwd";
    client.start(req, [&](const HttpResponse& r) { got = r; });
    loop.run(
        client, [&] { return client.in_flight() == 0; }, std::chrono::seconds(5));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 0);
    EXPECT_TRUE(got->body.empty());
}
