// What the core's network clients (HTTP: http_client.hpp; Redis:
// redis.hpp) need from an event loop: they never wait, but say which
// sockets and which timeout they care about, and the loop calls back when
// one is ready. The nginx glue implements EventLoop with nginx connections
// and timers (nginx/ngx_spotauth_event_loop.hpp); tests can use poll(2).
#pragma once

namespace spotauth {

class EventLoop {
public:
    enum Interest : int { kNone = 0, kRead = 1, kWrite = 2 };

    virtual ~EventLoop() = default;

    // Watch `fd` for `interest` (a kRead|kWrite mask) from now on, replacing
    // any earlier interest; kNone means the client is done with the socket.
    virtual void watch(int fd, int interest) = 0;

    // Call EventSink::on_timeout after `ms` milliseconds; -1 cancels.
    virtual void arm_timer(long ms) = 0;
};

// What an EventLoop calls back (the HTTP client, the Redis client).
class EventSink {
public:
    virtual ~EventSink() = default;
    // `events` is an EventLoop::Interest mask of what the loop saw.
    virtual void on_socket_ready(int fd, int events) = 0;
    virtual void on_timeout() = 0;
};

}  // namespace spotauth
