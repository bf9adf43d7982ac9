// For the unit tests of the core's network clients (HttpClient,
// RedisClient): a poll(2) event loop that drives an EventSink the way the
// nginx glue does with nginx events, and a socket listening on 127.0.0.1.
#pragma once

#include "spotauth/event_loop.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace spotauth_test {

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

class PollLoop : public spotauth::EventLoop {
public:
    void watch(int fd, int interest) override {
        if (interest == kNone) {
            fds_.erase(fd);
        } else {
            fds_[fd] = interest;
        }
    }
    void arm_timer(long ms) override { timer_at_ = ms < 0 ? -1 : now_ms() + ms; }

    // Runs `sink` until `done()` or `limit` passes.
    void run(spotauth::EventSink& sink, const std::function<bool()>& done,
             std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        const std::int64_t deadline = now_ms() + limit.count();
        while (!done() && now_ms() < deadline) {
            std::vector<pollfd> pfds;
            for (const auto& [fd, interest] : fds_) {
                pfds.push_back(
                    {fd, static_cast<short>(((interest & kRead) ? POLLIN : 0) | ((interest & kWrite) ? POLLOUT : 0)),
                     0});
            }
            poll(pfds.data(), pfds.size(), 10);
            for (const pollfd& p : pfds) {
                const int events =
                    ((p.revents & (POLLIN | POLLHUP | POLLERR)) ? kRead : 0) | ((p.revents & POLLOUT) ? kWrite : 0);
                if (events != 0) {
                    sink.on_socket_ready(p.fd, events);
                }
            }
            if (timer_at_ >= 0 && now_ms() >= timer_at_) {
                timer_at_ = -1;
                sink.on_timeout();
            }
        }
    }

private:
    std::map<int, int> fds_;
    std::int64_t timer_at_ = -1;
};

// A socket listening on 127.0.0.1 at a port the kernel picks, written to `port`.
inline int listen_on_loopback(int backlog, int& port) {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listener, backlog);
    socklen_t len = sizeof addr;
    getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    return listener;
}

}  // namespace spotauth_test
