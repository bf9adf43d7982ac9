// Micro-benchmarks of the per-request core work of a protected location
// (Google Benchmark). What `spotauth on` does for a request with a valid
// session, in ngx_http_spotauth_module.cpp load_session() + inject():
//
//   open_session()        decrypt + validate the session cookie (JWE, JSON)
//   "Bearer " + token     the Authorization header value (set_authorization)
//   strip_cookies()       the Cookie header sent upstream (strip_module_cookies)
//
// plus seal_session(), which runs after every refresh and key rotation.
// The module opens cookies through a per-worker SessionCache: a cookie seen
// before skips decryption (BM_Cached*); open_session() is what a cookie's
// first request (or a cache miss) costs.
// Token sizes are those of the mock Spotify (t/mock_spotify.py): access
// tokens "BQ" + 150 characters, refresh tokens "AQ" + 130.
//
// Build: cmake -S . -B build/bench -DSPOTAUTH_BENCH=ON -DSPOTAUTH_TESTS=OFF
//        -DCMAKE_BUILD_TYPE=Release && cmake --build build/bench
// Run:   build/bench/spotauth_bench [--benchmark_format=json]
#include "spotauth/cookie.hpp"
#include "spotauth/crypto.hpp"
#include "spotauth/jwe.hpp"
#include "spotauth/session_cache.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using spotauth::CookieStatus;
using spotauth::KeyRing;
using spotauth::Session;

const spotauth::UnixTime kNow = static_cast<spotauth::UnixTime>(std::time(nullptr));

std::string token(char a, char b, std::size_t length) {
    std::string t{a, b};
    for (std::size_t i = 0; i < length; ++i) {
        t += "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"[(i * 37 + 11) % 64];
    }
    return t;
}

Session sample_session() {
    Session s;
    s.user_id = "alice";
    s.display_name = "Alice Liddell";
    s.access_token = token('B', 'Q', 150);
    s.refresh_token = token('A', 'Q', 130);
    s.access_expires_at = kNow + 3600;
    s.issued_at = kNow;
    s.expires_at = kNow + 30 * 24 * 3600;
    return s;
}

spotauth::Key key(char fill) { return spotauth::make_key(std::string(spotauth::kAesKeyBytes, fill)); }

const KeyRing& ring() {
    static const KeyRing keys({key('k')});
    return keys;
}

// A ring in rotation: the cookie was sealed by the second (older) key.
const KeyRing& rotating_ring() {
    static const KeyRing keys({key('n'), key('k')});
    return keys;
}

const std::string& cookie() {
    static const std::string c = [] {
        const auto sealed = spotauth::seal_session(ring(), sample_session());
        if (!sealed) {
            std::cerr << "seal_session failed\n";
            std::abort();
        }
        return *sealed;
    }();
    return c;
}

// What a browser sends: ours among other cookies of the site.
const std::string& cookie_header() {
    static const std::string h = "_ga=GA1.1.123456789.1700000000; theme=dark; spotauth=" + cookie() + "; consent=yes";
    return h;
}

const spotauth::CookieNames& module_cookies() {
    static const spotauth::CookieNames names = spotauth::cookie_names(false);
    return names;
}

template <typename Opened>  // OpenedSession or SharedSession
void check_valid(const Opened& opened) {
    if (opened.status != CookieStatus::valid) {
        std::cerr << "open_session did not accept the benchmark cookie\n";
        std::abort();
    }
}

std::string bearer(std::string_view access_token) {
    return "Bearer " + std::string(access_token);  // as set_authorization() builds it
}

void BM_OpenSession(benchmark::State& state) {
    const std::string& c = cookie();
    for (auto _ : state) {
        auto opened = spotauth::open_session(ring(), c, kNow);
        benchmark::DoNotOptimize(opened);
    }
    check_valid(spotauth::open_session(ring(), c, kNow));
    state.counters["cookie_bytes"] = static_cast<double>(c.size());
}
BENCHMARK(BM_OpenSession);

void BM_OpenSessionOldKey(benchmark::State& state) {
    const std::string& c = cookie();
    for (auto _ : state) {
        auto opened = spotauth::open_session(rotating_ring(), c, kNow);
        benchmark::DoNotOptimize(opened);
    }
    check_valid(spotauth::open_session(rotating_ring(), c, kNow));
}
BENCHMARK(BM_OpenSessionOldKey);

void BM_OpenTampered(benchmark::State& state) {
    std::string c = cookie();
    c[c.size() - 3] = c[c.size() - 3] == 'A' ? 'B' : 'A';  // the tag: fails authentication
    for (auto _ : state) {
        auto opened = spotauth::open_session(ring(), c, kNow);
        benchmark::DoNotOptimize(opened);
    }
}
BENCHMARK(BM_OpenTampered);

void BM_SealSession(benchmark::State& state) {
    const Session s = sample_session();
    for (auto _ : state) {
        auto sealed = spotauth::seal_session(ring(), s);
        benchmark::DoNotOptimize(sealed);
    }
}
BENCHMARK(BM_SealSession);

void BM_BearerHeader(benchmark::State& state) {
    const std::string access_token = sample_session().access_token;
    for (auto _ : state) {
        std::string value = bearer(access_token);
        benchmark::DoNotOptimize(value);
    }
}
BENCHMARK(BM_BearerHeader);

void BM_StripCookies(benchmark::State& state) {
    const std::string& header = cookie_header();
    for (auto _ : state) {
        std::string kept = spotauth::strip_cookies(header, module_cookies());
        benchmark::DoNotOptimize(kept);
    }
}
BENCHMARK(BM_StripCookies);

// The whole per-request work of `spotauth on` with a valid session.
void BM_OpenAndInject(benchmark::State& state) {
    const std::string& c = cookie();
    const std::string& header = cookie_header();
    for (auto _ : state) {
        auto opened = spotauth::open_session(ring(), c, kNow);
        std::string value = bearer(opened.session.access_token);
        std::string kept = spotauth::strip_cookies(header, module_cookies());
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(kept);
    }
}
BENCHMARK(BM_OpenAndInject);

// What the module does per request for a cookie it has seen before.
void BM_CachedOpen(benchmark::State& state) {
    const std::string& c = cookie();
    spotauth::SessionCache cache(512);
    check_valid(cache.open(ring(), c, kNow));
    check_valid(cache.open(ring(), c, kNow));  // remembered on its second opening
    for (auto _ : state) {
        auto opened = cache.open(ring(), c, kNow);
        benchmark::DoNotOptimize(opened);
    }
}
BENCHMARK(BM_CachedOpen);

void BM_CachedOpenAndInject(benchmark::State& state) {
    const std::string& c = cookie();
    const std::string& header = cookie_header();
    spotauth::SessionCache cache(512);
    check_valid(cache.open(ring(), c, kNow));
    check_valid(cache.open(ring(), c, kNow));  // remembered on its second opening
    for (auto _ : state) {
        auto opened = cache.open(ring(), c, kNow);
        std::string value = bearer(opened.session->access_token);
        std::string kept = spotauth::strip_cookies(header, module_cookies());
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(kept);
    }
}
BENCHMARK(BM_CachedOpenAndInject);

// The module's path for a cookie it has not seen (scenario 1b): a
// SessionCache miss on every request, 4,000 cookies rotating through the
// cache's 512 entries as in scenario 1b, so each one is opened (and, when
// its mark from the last round survived, remembered and later evicted).
void BM_CacheMissOpenAndInject(benchmark::State& state) {
    static const std::vector<std::string> cookies = [] {
        std::vector<std::string> all;
        for (int i = 0; i < 4000; ++i) {
            Session s = sample_session();
            s.user_id = "user" + std::to_string(i);
            all.push_back(*spotauth::seal_session(ring(), s));
        }
        return all;
    }();
    const std::string& header = cookie_header();
    spotauth::SessionCache cache(512);
    std::size_t next = 0;
    for (auto _ : state) {
        auto opened = cache.open(ring(), cookies[next], kNow);
        next = (next + 1) % cookies.size();
        std::string value = bearer(opened.session->access_token);
        std::string kept = spotauth::strip_cookies(header, module_cookies());
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(kept);
    }
    check_valid(cache.open(ring(), cookies[next], kNow));
}
BENCHMARK(BM_CacheMissOpenAndInject);

}  // namespace

BENCHMARK_MAIN();
