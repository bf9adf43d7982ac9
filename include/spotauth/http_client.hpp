// Non-blocking HTTP over libcurl's multi-socket interface. The client never
// waits: it tells an EventLoop (event_loop.hpp) which sockets and which
// timeout it cares about, and the loop calls back when one is ready.
#pragma once

#include "spotauth/event_loop.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace spotauth {

struct HttpRequest {
    std::string url;
    std::vector<std::string> headers;  // full lines, "Name: value"
    std::string post_body;             // a POST when not empty
    long connect_timeout_ms = 5000;
    long total_timeout_ms = 10000;
    std::size_t max_response_bytes = 64 * 1024;
    std::string ca_file;  // empty: the system's trust store
};

struct HttpResponse {
    long status = 0;    // 0: the transfer failed (see `error`)
    std::string error;  // curl's reason when status is 0
    std::string body;
    double total_seconds = 0;
};

// What the refresh logic needs from an HTTP client (tests substitute a fake).
class HttpTransport {
public:
    using TransferId = std::uint64_t;
    using Completion = std::function<void(const HttpResponse&)>;

    virtual ~HttpTransport() = default;

    // Starts a transfer; `done` runs later, never from inside start().
    // Returns 0 if the transfer could not start.
    virtual TransferId start(const HttpRequest& request, Completion done) = 0;

    // `done` of that transfer will not run. Unknown or finished ids are fine.
    virtual void cancel(TransferId id) = 0;
};

class HttpClient : public HttpTransport, public EventSink {
public:
    explicit HttpClient(EventLoop& loop);
    ~HttpClient() override;
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // `done` runs from on_socket_ready/on_timeout.
    TransferId start(const HttpRequest& request, Completion done) override;
    void cancel(TransferId id) override;

    void on_socket_ready(int fd, int events) override;
    void on_timeout() override;

    std::size_t in_flight() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace spotauth
