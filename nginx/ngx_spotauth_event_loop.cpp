// libcurl on nginx's event loop (see ngx_spotauth_event_loop.hpp). Sockets
// are watched level-triggered: curl may leave data unread, and
// edge-triggered epoll would then never wake it again.
#include "ngx_spotauth_event_loop.hpp"

namespace spotauth_ngx {
namespace {

void set_interest(ngx_event_t* ev, ngx_int_t event, bool wanted) {
    if (wanted && !ev->active) {
        ngx_add_event(ev, event, NGX_LEVEL_EVENT);
    } else if (!wanted && ev->active) {
        ngx_del_event(ev, event, 0);
    }
}

}  // namespace

NginxEventLoop::NginxEventLoop(ngx_log_t* log, bool holds_exit) : log_(log) {
    ngx_memzero(&timer_, sizeof timer_);
    timer_.handler = &NginxEventLoop::on_timer;
    timer_.data = this;
    timer_.log = log_;
    // For curl, not cancelable: curl arms it only while a transfer runs, and
    // a worker leaving on reload must stay until its token calls are
    // answered (a rotated refresh token would be lost otherwise), as it does
    // for a proxied request.
    timer_.cancelable = holds_exit ? 0 : 1;
}

NginxEventLoop::~NginxEventLoop() {
    if (timer_.timer_set) {
        ngx_del_timer(&timer_);
    }
    for (auto& [fd, c] : connections_) {
        release(c);
    }
}

void NginxEventLoop::watch(int fd, int interest) {
    auto it = connections_.find(fd);
    if (interest == kNone) {
        if (it != connections_.end()) {
            release(it->second);
            connections_.erase(it);
        }
        return;
    }
    ngx_connection_t* c = it != connections_.end() ? it->second : adopt(fd);
    if (c == nullptr) {
        return;  // logged by adopt(); the client's own timeout ends its work
    }
    set_interest(c->read, NGX_READ_EVENT, (interest & kRead) != 0);
    set_interest(c->write, NGX_WRITE_EVENT, (interest & kWrite) != 0);
}

void NginxEventLoop::arm_timer(long ms) {
    if (ms < 0) {
        if (timer_.timer_set) {
            ngx_del_timer(&timer_);
        }
        return;
    }
    ngx_add_timer(&timer_, static_cast<ngx_msec_t>(ms));
}

ngx_connection_t* NginxEventLoop::adopt(int fd) {
    ngx_connection_t* c = ngx_get_connection(fd, log_);
    if (c == nullptr) {
        ngx_log_error(NGX_LOG_ALERT, log_, 0, "spotauth: no free connection for a socket of the module");
        return nullptr;
    }
    c->data = this;
    c->read->handler = &NginxEventLoop::on_socket_event;
    c->write->handler = &NginxEventLoop::on_socket_event;
    c->read->log = log_;
    c->write->log = log_;
    try {
        connections_.emplace(fd, c);
    } catch (...) {
        release(c);
        throw;
    }
    return c;
}

// The socket belongs to curl: stop watching it but never close it. An
// event already posted for it (accept_mutex, multi_accept) must not run on
// a connection that is free again.
void NginxEventLoop::release(ngx_connection_t* c) {
    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }
    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }
    ngx_free_connection(c);
    c->fd = (ngx_socket_t)-1;
}

void NginxEventLoop::on_socket_event(ngx_event_t* ev) noexcept {
    auto* c = static_cast<ngx_connection_t*>(ev->data);
    auto* self = static_cast<NginxEventLoop*>(c->data);
    // `c` may be released inside on_socket_ready: read what we need first.
    const int fd = c->fd;
    const int events = ev->write ? kWrite : kRead;
    c_boundary(self->log_, "a socket event", NGX_ERROR, [&] {
        self->sink_->on_socket_ready(fd, events);
        return NGX_OK;
    });
}

void NginxEventLoop::on_timer(ngx_event_t* ev) noexcept {
    auto* self = static_cast<NginxEventLoop*>(ev->data);
    c_boundary(self->log_, "an event-loop timer", NGX_ERROR, [&] {
        self->sink_->on_timeout();
        return NGX_OK;
    });
}

}  // namespace spotauth_ngx
