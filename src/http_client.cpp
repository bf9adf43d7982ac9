#include "spotauth/http_client.hpp"

#include <curl/curl.h>
#include <openssl/err.h>

#include <exception>
#include <unordered_map>

namespace spotauth {
namespace {

constexpr const char* kUserAgent = "spotauth/1.0";

struct Transfer {
    HttpClient::TransferId id = 0;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body;
    std::size_t max_body = 0;
    bool body_too_large = false;
    char error[CURL_ERROR_SIZE] = {};
    HttpClient::Completion done;
    bool finished = false;
    HttpResponse response;

    ~Transfer() {
        curl_easy_cleanup(easy);
        curl_slist_free_all(headers);
    }
};

// libcurl's callbacks are called from C: nothing may throw out of them.
size_t append_body(char* data, size_t size, size_t count, void* userp) noexcept {
    auto* t = static_cast<Transfer*>(userp);
    const size_t len = size * count;
    if (t->body.size() + len > t->max_body) {
        t->body_too_large = true;
        return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
    }
    try {
        t->body.append(data, len);
    } catch (...) {
        return 0;  // out of memory: abort the transfer
    }
    return len;
}

// OpenSSL's error queue is per thread and shared with the host: nginx
// reports anything left there (say, by a failed certificate check of ours)
// as a "stale global SSL error" on its next TLS operation. Every call into
// curl is followed by this.
void clear_openssl_errors() { ERR_clear_error(); }

int interest_of(int what) {
    switch (what) {
        case CURL_POLL_IN: return EventLoop::kRead;
        case CURL_POLL_OUT: return EventLoop::kWrite;
        case CURL_POLL_INOUT: return EventLoop::kRead | EventLoop::kWrite;
        default: return EventLoop::kNone;
    }
}

int curl_events_of(int events) {
    return ((events & EventLoop::kRead) ? CURL_CSELECT_IN : 0) | ((events & EventLoop::kWrite) ? CURL_CSELECT_OUT : 0);
}

}  // namespace

struct HttpClient::Impl {
    EventLoop& loop;
    CURLM* multi = nullptr;
    std::unordered_map<TransferId, std::unique_ptr<Transfer>> transfers;
    TransferId last_id = 0;

    explicit Impl(EventLoop& l) : loop(l) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        multi = curl_multi_init();
        curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_curl_socket);
        curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
        curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::on_curl_timer);
        curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    }

    ~Impl() {
        for (auto& [id, t] : transfers) {
            curl_multi_remove_handle(multi, t->easy);
        }
        transfers.clear();
        curl_multi_cleanup(multi);
        curl_global_cleanup();
        clear_openssl_errors();
    }

    // -1 makes curl fail the transfers concerned instead of an exception
    // unwinding through it.
    static int on_curl_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) noexcept {
        try {
            static_cast<Impl*>(userp)->loop.watch(fd, interest_of(what));
            return 0;
        } catch (...) {
            return -1;
        }
    }

    static int on_curl_timer(CURLM*, long timeout_ms, void* userp) noexcept {
        try {
            static_cast<Impl*>(userp)->loop.arm_timer(timeout_ms);
            return 0;
        } catch (...) {
            return -1;
        }
    }

    bool configure(Transfer& t, const HttpRequest& request) {
        CURL* e = t.easy;
        for (const std::string& line : request.headers) {
            curl_slist* grown = curl_slist_append(t.headers, line.c_str());
            if (grown == nullptr) {
                return false;
            }
            t.headers = grown;
        }
        bool ok = curl_easy_setopt(e, CURLOPT_URL, request.url.c_str()) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_USERAGENT, kUserAgent) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, request.total_timeout_ms) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &append_body) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_PRIVATE, &t) == CURLE_OK;
        if (ok && !request.post_body.empty()) {
            ok = curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, request.post_body.c_str()) == CURLE_OK;
        }
        if (ok && !request.ca_file.empty()) {
            ok = curl_easy_setopt(e, CURLOPT_CAINFO, request.ca_file.c_str()) == CURLE_OK;
        }
        return ok;
    }

    static HttpResponse response_of(Transfer& t, CURLcode result) {
        HttpResponse r;
        curl_easy_getinfo(t.easy, CURLINFO_TOTAL_TIME, &r.total_seconds);
        if (result != CURLE_OK) {
            r.error = t.body_too_large     ? "response body larger than " + std::to_string(t.max_body) + " bytes"
                      : t.error[0] != '\0' ? std::string(t.error)
                                           : std::string(curl_easy_strerror(result));
            return r;
        }
        curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &r.status);
        r.body = std::move(t.body);
        return r;
    }

    // Completions run one at a time after curl is done, so a completion may
    // start or cancel transfers (including ones that finished in this round).
    void run_completions() {
        std::vector<TransferId> finished;
        int pending = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi, &pending)) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            Transfer* t = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
            t->response = response_of(*t, msg->data.result);
            t->finished = true;
            curl_multi_remove_handle(multi, t->easy);
            finished.push_back(t->id);
        }
        // One completion that throws must not cost the others theirs: the
        // first exception is rethrown once every completion has run.
        std::exception_ptr first_failure;
        for (const TransferId id : finished) {
            const auto it = transfers.find(id);
            if (it == transfers.end()) {
                continue;  // cancelled by an earlier completion
            }
            const Completion done = std::move(it->second->done);
            const HttpResponse response = std::move(it->second->response);
            transfers.erase(it);
            clear_openssl_errors();
            try {
                done(response);
            } catch (...) {
                if (!first_failure) {
                    first_failure = std::current_exception();
                }
            }
        }
        if (first_failure) {
            std::rethrow_exception(first_failure);
        }
    }

    void socket_action(curl_socket_t fd, int curl_events) {
        int running = 0;
        curl_multi_socket_action(multi, fd, curl_events, &running);
        clear_openssl_errors();
        run_completions();
    }
};

HttpClient::HttpClient(EventLoop& loop) : impl_(std::make_unique<Impl>(loop)) {}

HttpClient::~HttpClient() = default;

HttpClient::TransferId HttpClient::start(const HttpRequest& request, Completion done) {
    auto t = std::make_unique<Transfer>();
    t->easy = curl_easy_init();
    t->max_body = request.max_response_bytes;
    t->done = std::move(done);
    const bool added =
        t->easy != nullptr && impl_->configure(*t, request) && curl_multi_add_handle(impl_->multi, t->easy) == CURLM_OK;
    clear_openssl_errors();
    if (!added) {
        return 0;
    }
    t->id = ++impl_->last_id;
    const TransferId id = t->id;
    impl_->transfers.emplace(id, std::move(t));
    return id;
}

void HttpClient::cancel(TransferId id) {
    const auto it = impl_->transfers.find(id);
    if (it == impl_->transfers.end()) {
        return;
    }
    if (!it->second->finished) {
        curl_multi_remove_handle(impl_->multi, it->second->easy);
    }
    impl_->transfers.erase(it);
    clear_openssl_errors();
}

void HttpClient::on_socket_ready(int fd, int events) { impl_->socket_action(fd, curl_events_of(events)); }

void HttpClient::on_timeout() { impl_->socket_action(CURL_SOCKET_TIMEOUT, 0); }

std::size_t HttpClient::in_flight() const { return impl_->transfers.size(); }

}  // namespace spotauth
