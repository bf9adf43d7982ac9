#include "spotauth/redis.hpp"

#include "spotauth/url.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <map>

namespace spotauth {
namespace {

std::optional<int> to_int(std::string_view text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

RedisValue value_of(const redisReply* r) {
    RedisValue v;
    switch (r->type) {
        case REDIS_REPLY_STRING: v.kind = RedisValue::Kind::string; break;
        case REDIS_REPLY_STATUS: v.kind = RedisValue::Kind::status; break;
        case REDIS_REPLY_ERROR: v.kind = RedisValue::Kind::error; break;
        case REDIS_REPLY_INTEGER: v.kind = RedisValue::Kind::integer; break;
        case REDIS_REPLY_ARRAY: v.kind = RedisValue::Kind::array; break;
        default: v.kind = RedisValue::Kind::nil; break;
    }
    if (r->str != nullptr) {
        v.text.assign(r->str, r->len);
    }
    v.integer = r->integer;
    for (std::size_t i = 0; i < r->elements; ++i) {
        v.elements.push_back(value_of(r->element[i]));
    }
    return v;
}

}  // namespace

// Redis's error replies start with their code: "OOM command not allowed...".
RedisErrorKind redis_error_kind(std::string_view text) {
    const auto code = text.substr(0, text.find(' '));
    if (code == "OOM") {
        return RedisErrorKind::oom;
    }
    if (code == "READONLY") {
        return RedisErrorKind::readonly;
    }
    if (code == "NOAUTH" || code == "WRONGPASS" || code == "NOPERM") {
        return RedisErrorKind::noauth;
    }
    if (code == "LOADING") {
        return RedisErrorKind::loading;
    }
    return RedisErrorKind::other;
}

const char* redis_error_label(RedisErrorKind kind) {
    switch (kind) {
        case RedisErrorKind::oom: return "oom";
        case RedisErrorKind::readonly: return "readonly";
        case RedisErrorKind::noauth: return "noauth";
        case RedisErrorKind::loading: return "loading";
        case RedisErrorKind::other: break;
    }
    return "other";
}

bool redis_answered(const std::optional<RedisValue>& reply) { return reply && reply->kind != RedisValue::Kind::error; }

Expected<RedisEndpoint> parse_redis_url(std::string_view url) {
    using Result = Expected<RedisEndpoint>;
    RedisEndpoint ep;
    if (url.rfind("unix:", 0) == 0) {
        std::string_view rest = url.substr(5);
        const auto query = rest.find("?db=");
        if (query != std::string_view::npos) {
            const auto db = to_int(rest.substr(query + 4));
            if (!db || *db < 0) {
                return Result::failure("has an invalid ?db= number");
            }
            ep.db = *db;
            rest = rest.substr(0, query);
        }
        if (rest.empty() || rest[0] != '/') {
            return Result::failure("must name an absolute socket path, for example \"unix:/run/redis/redis.sock\"");
        }
        ep.unix_path = std::string(rest);
        return ep;
    }
    if (url.rfind("redis://", 0) != 0) {
        return Result::failure("must start with redis:// or unix:");
    }
    std::string_view rest = url.substr(8);
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        const auto db = to_int(rest.substr(slash + 1));
        if (!db || *db < 0) {
            return Result::failure("has an invalid database number after the /");
        }
        ep.db = *db;
    }
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        const auto colon = userinfo.find(':');
        const auto password =
            percent_decode(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1), false);
        if (!password) {
            return Result::failure("has a badly escaped password");
        }
        ep.password = *password;
        authority = authority.substr(at + 1);
    }
    std::string_view host = authority;
    if (!host.empty() && host.front() == '[') {  // [::1]:6379
        const auto close = host.find(']');
        if (close == std::string_view::npos) {
            return Result::failure("has an unclosed [ in its address");
        }
        const std::string_view after = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                return Result::failure("has something after the address that is not a port");
            }
            authority = after;  // ":port"
        } else {
            authority = {};
        }
    } else {
        const auto colon = host.rfind(':');
        authority = colon == std::string_view::npos ? std::string_view() : host.substr(colon);
        host = host.substr(0, colon);
    }
    if (!authority.empty()) {
        const auto port = to_int(authority.substr(1));
        if (!port || *port <= 0 || *port > 65535) {
            return Result::failure("has an invalid port");
        }
        ep.port = *port;
    }
    if (host.empty()) {
        return Result::failure("has no host");
    }
    ep.host = std::string(host);
    return ep;
}

struct RedisClient::Impl {
    using Clock = RedisClient::Clock;
    using Reply = RedisClient::Reply;

    enum class State { down, connecting, up };

    struct Pending {
        std::int64_t deadline;
        Reply done;
    };

    EventLoop& loop;
    RedisEndpoint endpoint;
    RedisTiming timing;
    Clock clock;
    RedisClient::StateChange on_state;

    redisAsyncContext* ac = nullptr;
    State state = State::down;
    bool started = false;
    bool announced_down = false;  // one line per outage
    std::int64_t reconnect_at = 0;
    std::int64_t connect_deadline = 0;
    long backoff_ms = 0;
    int fd = -1;
    int interest = EventLoop::kNone;
    std::uint64_t last_id = 0;
    std::map<std::uint64_t, Pending> pending;    // sent, waiting for a reply
    std::map<std::uint64_t, Reply> unavailable;  // answered "unavailable" on the next tick
    std::exception_ptr escaped;                  // from a callback run inside hiredis

    Impl(EventLoop& l, RedisEndpoint e, RedisTiming t, Clock c, RedisClient::StateChange s)
        : loop(l),
          endpoint(std::move(e)),
          timing(t),
          clock(std::move(c)),
          on_state(std::move(s)),
          backoff_ms(timing.backoff_first_ms) {}

    // Going away with the worker: the callers' callbacks are not run (what
    // they would answer may be gone already).
    ~Impl() {
        pending.clear();
        unavailable.clear();
        if (ac != nullptr) {
            redisAsyncContext* c = ac;
            ac = nullptr;
            c->onDisconnect = nullptr;
            redisAsyncFree(c);
        }
        loop.arm_timer(-1);
    }

    // --- hiredis's event hooks --------------------------------------------------

    static Impl* of(void* privdata) { return static_cast<Impl*>(privdata); }

    void set_interest(int wanted) {
        interest = wanted;
        if (fd >= 0) {
            loop.watch(fd, interest);
        }
    }

    static void add_read(void* p) { of(p)->set_interest(of(p)->interest | EventLoop::kRead); }
    static void del_read(void* p) { of(p)->set_interest(of(p)->interest & ~EventLoop::kRead); }
    static void add_write(void* p) { of(p)->set_interest(of(p)->interest | EventLoop::kWrite); }
    static void del_write(void* p) { of(p)->set_interest(of(p)->interest & ~EventLoop::kWrite); }
    static void cleanup(void* p) {
        Impl* self = of(p);
        if (self->fd >= 0) {
            self->loop.watch(self->fd, EventLoop::kNone);
        }
        self->fd = -1;
        self->interest = EventLoop::kNone;
    }

    // A failed connect: hiredis frees the context after this returns (its
    // cleanup hook unwatches the socket).
    static void on_connect(const redisAsyncContext* c, int status) {
        Impl* self = of(c->data);
        if (status != REDIS_OK) {
            self->ac = nullptr;
            self->went_down(c->errstr != nullptr ? c->errstr : "connect failed");
        }
    }

    // hiredis frees the context after this returns (cleanup ran before).
    static void on_disconnect(const redisAsyncContext* c, int status) {
        Impl* self = of(c->data);
        self->ac = nullptr;
        self->went_down(status == REDIS_OK ? "connection closed"
                                           : (c->errstr != nullptr ? c->errstr : "connection lost"));
    }

    // Every reply, or none (nullptr) when the context goes away.
    static void on_reply(redisAsyncContext* c, void* reply, void* privdata) {
        Impl* self = of(c->data);
        const auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(privdata));
        const auto it = self->pending.find(id);
        if (it == self->pending.end()) {
            return;
        }
        Reply done = std::move(it->second.done);
        self->pending.erase(it);
        // Nothing may unwind through hiredis: keep the first exception for later.
        try {
            if (reply == nullptr) {
                done(std::nullopt);
            } else {
                done(value_of(static_cast<redisReply*>(reply)));
            }
        } catch (...) {
            if (!self->escaped) {
                self->escaped = std::current_exception();
            }
        }
    }

    // --- connection ---------------------------------------------------------------

    void connect() {
        redisAsyncContext* c = endpoint.unix_path.empty() ? redisAsyncConnect(endpoint.host.c_str(), endpoint.port)
                                                          : redisAsyncConnectUnix(endpoint.unix_path.c_str());
        if (c == nullptr || c->err != 0) {
            const std::string why = c != nullptr && c->errstr != nullptr ? c->errstr : "cannot connect";
            if (c != nullptr) {
                redisAsyncFree(c);
            }
            went_down(why);
            return;
        }
        ac = c;
        ac->data = this;
        ac->ev.data = this;
        ac->ev.addRead = &Impl::add_read;
        ac->ev.delRead = &Impl::del_read;
        ac->ev.addWrite = &Impl::add_write;
        ac->ev.delWrite = &Impl::del_write;
        ac->ev.cleanup = &Impl::cleanup;
        fd = ac->c.fd;
        redisAsyncSetConnectCallback(ac, &Impl::on_connect);
        redisAsyncSetDisconnectCallback(ac, &Impl::on_disconnect);
        state = State::connecting;
        connect_deadline = clock() + timing.connect_timeout_ms;
        handshake();
    }

    // AUTH and SELECT where configured, then PING: up once it answers.
    void handshake() {
        if (!endpoint.password.empty()) {
            send({"AUTH", endpoint.password}, [this](const std::optional<RedisValue>& v) {
                if (v && v->kind == RedisValue::Kind::error) {
                    drop("AUTH refused: " + v->text);
                }
            });
        }
        if (endpoint.db != 0) {
            send({"SELECT", std::to_string(endpoint.db)}, [this](const std::optional<RedisValue>& v) {
                if (v && v->kind == RedisValue::Kind::error) {
                    drop("SELECT refused: " + v->text);
                }
            });
        }
        send({"PING"}, [this](const std::optional<RedisValue>& v) {
            if (v && v->kind == RedisValue::Kind::error && state == State::connecting) {
                drop("PING refused: " + v->text);  // NOAUTH, LOADING...: said, then retried with backoff
                return;
            }
            if (v && state == State::connecting) {
                state = State::up;
                backoff_ms = timing.backoff_first_ms;
                announced_down = false;
                on_state(true, "");
            }
        });
    }

    void went_down(const std::string& why) {
        const bool was_up = state == State::up;
        state = State::down;
        reconnect_at = clock() + backoff_ms;
        backoff_ms = std::min(backoff_ms * 2, timing.backoff_max_ms);
        if (was_up || !announced_down) {
            announced_down = true;
            on_state(false, why);
        }
    }

    // Ends the connection from our side (timeout, refused handshake).
    void drop(const std::string& why) {
        if (ac == nullptr) {
            return;
        }
        redisAsyncContext* c = ac;
        ac = nullptr;
        c->onDisconnect = nullptr;  // we report it ourselves
        redisAsyncFree(c);          // pending callbacks run with no reply
        fd = -1;
        interest = EventLoop::kNone;
        went_down(why);
    }

    // --- commands ----------------------------------------------------------------

    std::uint64_t send(const std::vector<std::string>& argv, Reply done) {
        std::vector<const char*> args;
        std::vector<std::size_t> lengths;
        for (const std::string& a : argv) {
            args.push_back(a.data());
            lengths.push_back(a.size());
        }
        const std::uint64_t id = ++last_id;
        pending.emplace(id, Pending{clock() + timing.command_timeout_ms, std::move(done)});
        if (redisAsyncCommandArgv(ac, &Impl::on_reply, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)),
                                  static_cast<int>(args.size()), args.data(), lengths.data()) != REDIS_OK) {
            auto it = pending.find(id);
            unavailable.emplace(id, std::move(it->second.done));
            pending.erase(it);
        }
        return id;
    }

    // Not sent: answered "unavailable" on the next tick.
    std::uint64_t refuse(Reply done) {
        const std::uint64_t id = ++last_id;
        unavailable.emplace(id, std::move(done));
        return id;
    }

    // --- time ----------------------------------------------------------------------

    void tick() {
        const std::int64_t now = clock();
        std::map<std::uint64_t, Reply> failed;
        failed.swap(unavailable);
        for (auto& [id, done] : failed) {
            done(std::nullopt);
        }
        if (state == State::connecting && now >= connect_deadline) {
            drop("connect timed out");
        }
        const bool overdue =
            std::any_of(pending.begin(), pending.end(), [now](const auto& p) { return p.second.deadline <= now; });
        if (overdue) {
            drop("no answer within " + std::to_string(timing.command_timeout_ms) + " ms");
        }
        if (state == State::down && started && ac == nullptr && now >= reconnect_at) {
            connect();
        }
    }

    void rearm() {
        std::optional<std::int64_t> next;
        const auto consider = [&next](std::int64_t t) { next = next ? std::min(*next, t) : t; };
        const std::int64_t now = clock();
        if (!unavailable.empty()) {
            consider(now);
        }
        if (state == State::connecting) {
            consider(connect_deadline);
        }
        for (const auto& [id, p] : pending) {
            consider(p.deadline);
        }
        if (state == State::down && started) {
            consider(reconnect_at);
        }
        loop.arm_timer(next ? static_cast<long>(std::max<std::int64_t>(*next - now, 0)) : -1);
    }

    void rethrow_escaped() {
        if (escaped) {
            std::exception_ptr e = escaped;
            escaped = nullptr;
            std::rethrow_exception(e);
        }
    }
};

RedisClient::RedisClient(EventLoop& loop, RedisEndpoint endpoint, RedisTiming timing, Clock clock, StateChange on_state)
    : impl_(std::make_unique<Impl>(loop, std::move(endpoint), timing, std::move(clock), std::move(on_state))) {}

RedisClient::~RedisClient() = default;

void RedisClient::start() {
    impl_->started = true;
    impl_->connect();
    impl_->rearm();
    impl_->rethrow_escaped();
}

bool RedisClient::up() const { return impl_->state == Impl::State::up; }

RedisCommands::CommandId RedisClient::command(std::vector<std::string> argv, Reply done) {
    const CommandId id =
        impl_->state != Impl::State::up ? impl_->refuse(std::move(done)) : impl_->send(argv, std::move(done));
    impl_->rearm();
    return id;
}

// Its reply, when it comes, finds no one waiting (on_reply skips unknown ids).
void RedisClient::cancel(CommandId id) {
    impl_->pending.erase(id);
    impl_->unavailable.erase(id);
}

void RedisClient::on_socket_ready(int fd, int events) {
    Impl& impl = *impl_;
    if (impl.ac != nullptr && fd == impl.fd && (events & EventLoop::kRead) != 0) {
        redisAsyncHandleRead(impl.ac);
    }
    if (impl.ac != nullptr && fd == impl.fd && (events & EventLoop::kWrite) != 0) {
        redisAsyncHandleWrite(impl.ac);
    }
    impl.rearm();
    impl.rethrow_escaped();
}

void RedisClient::on_timeout() {
    impl_->tick();
    impl_->rearm();
    impl_->rethrow_escaped();
}

}  // namespace spotauth
