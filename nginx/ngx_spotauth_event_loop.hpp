// The core's clients (libcurl, hiredis) on nginx's event loop: their sockets
// become nginx connections watched level-triggered, their timer an nginx
// timer.
#pragma once

#include "ngx_spotauth_module.hpp"

#include "spotauth/event_loop.hpp"

#include <unordered_map>

namespace spotauth_ngx {

class NginxEventLoop : public spotauth::EventLoop {
public:
    // `holds_exit`: its timer keeps a worker leaving on reload alive (work
    // that must finish, like a token call) or not (a reconnect schedule).
    NginxEventLoop(ngx_log_t* log, bool holds_exit);
    ~NginxEventLoop() override;
    NginxEventLoop(const NginxEventLoop&) = delete;
    NginxEventLoop& operator=(const NginxEventLoop&) = delete;

    void attach(spotauth::EventSink* sink) { sink_ = sink; }

    void watch(int fd, int interest) override;
    void arm_timer(long ms) override;

private:
    ngx_connection_t* adopt(int fd);
    static void release(ngx_connection_t* c);
    static void on_socket_event(ngx_event_t* ev) noexcept;
    static void on_timer(ngx_event_t* ev) noexcept;

    ngx_log_t* log_;
    ngx_event_t timer_;
    spotauth::EventSink* sink_ = nullptr;
    std::unordered_map<int, ngx_connection_t*> connections_;
};

}  // namespace spotauth_ngx
