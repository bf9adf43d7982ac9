// The input is a cookie value, as a browser (or an attacker) sends it, for
// open_session and open_login. The same bytes are also sealed as claims
// under a ring key, so the JSON claims parsing behind the tag check gets
// fuzzed too (a fuzzer never forges a GCM tag).
#include "fuzz_common.hpp"
#include "spotauth/session_cache.hpp"

#include <cstddef>
#include <cstdint>

namespace {

using spotauth::CookieStatus;

bool same(const spotauth::Session& a, const spotauth::Session& b) {
    return a.user_id == b.user_id && a.display_name == b.display_name && a.access_token == b.access_token &&
           a.refresh_token == b.refresh_token && a.access_expires_at == b.access_expires_at &&
           a.issued_at == b.issued_at && a.expires_at == b.expires_at;
}

bool same(const spotauth::LoginTransaction& a, const spotauth::LoginTransaction& b) {
    return a.state == b.state && a.code_verifier == b.code_verifier && a.return_to == b.return_to &&
           a.expires_at == b.expires_at;
}

bool is_empty(const spotauth::Session& s) { return same(s, spotauth::Session{}); }

void check_cookie(std::string_view cookie) {
    const auto& keys = fuzz::ring();
    const auto opened = spotauth::open_session(keys, cookie, fuzz::kNow);
    FUZZ_CHECK((opened.status == CookieStatus::absent) == cookie.empty());
    if (opened.status != CookieStatus::valid) {
        FUZZ_CHECK(is_empty(opened.session));
    } else {
        FUZZ_CHECK(opened.session.expires_at > fuzz::kNow);
        // Re-sealing what we read gives a cookie that reads the same.
        const auto resealed = spotauth::seal_session(keys, opened.session);
        FUZZ_CHECK(resealed.has_value());
        const auto again = spotauth::open_session(keys, *resealed, fuzz::kNow);
        FUZZ_CHECK(again.status == CookieStatus::valid);
        FUZZ_CHECK(same(again.session, opened.session));
        // A ring that lost both keys reads nothing.
        const spotauth::KeyRing stranger({fuzz::key_c()});
        FUZZ_CHECK(spotauth::open_session(stranger, cookie, fuzz::kNow).status == CookieStatus::invalid);
    }

    // The cache answers what open_session does, remembers a valid cookie on
    // its second opening, shares one session between hits, and a session
    // handed out outlives its entry's eviction (ASan).
    spotauth::SessionCache cache(1);
    for (int lookup = 0; lookup < 3; ++lookup) {
        const auto shared = cache.open(keys, cookie, fuzz::kNow);
        FUZZ_CHECK(shared.status == opened.status);
        FUZZ_CHECK((shared.session != nullptr) == (opened.status == CookieStatus::valid));
        FUZZ_CHECK(shared.old_key == opened.old_key);
        FUZZ_CHECK(!shared.session || same(*shared.session, opened.session));
        FUZZ_CHECK(cache.size() == (opened.status == CookieStatus::valid && lookup > 0 ? 1u : 0u));
    }
    if (opened.status == CookieStatus::valid) {
        const auto held = cache.open(keys, cookie, fuzz::kNow);
        FUZZ_CHECK(held.session == cache.open(keys, cookie, fuzz::kNow).session);
        spotauth::Session another;
        another.user_id = "u";
        another.access_token = "t";
        another.expires_at = fuzz::kNow + 1;
        const auto other = spotauth::seal_session(keys, another);
        FUZZ_CHECK(other.has_value());
        for (int lookup = 0; lookup < 2; ++lookup) {  // remembered on the second: evicts the first
            FUZZ_CHECK(cache.open(keys, *other, fuzz::kNow).status == CookieStatus::valid);
        }
        FUZZ_CHECK(cache.size() == 1u);  // the cookie's entry is gone; `held` is not
        FUZZ_CHECK(same(*held.session, opened.session));
        FUZZ_CHECK(cache.open(keys, cookie, opened.session.expires_at).status == CookieStatus::expired);
    }

    const auto login = spotauth::open_login(keys, cookie, fuzz::kNow);
    if (login) {
        // `typ` keeps the two kinds apart.
        FUZZ_CHECK(opened.status == CookieStatus::invalid);
        FUZZ_CHECK(login->expires_at > fuzz::kNow);
        const auto resealed = spotauth::seal_login(keys, *login);
        FUZZ_CHECK(resealed.has_value());
        const auto again = spotauth::open_login(keys, *resealed, fuzz::kNow);
        FUZZ_CHECK(again.has_value() && same(*again, *login));
    }

    // Whatever KeyRing::open accepts decrypts the same under a one-key ring
    // holding the key it names (A or B), and nothing else opens under C.
    const auto plain = keys.open(cookie);
    if (plain) {
        const auto by_a = spotauth::KeyRing({fuzz::key_a()}).open(cookie);
        const auto by_b = spotauth::KeyRing({fuzz::key_b()}).open(cookie);
        FUZZ_CHECK(by_a.has_value() != by_b.has_value());
        FUZZ_CHECK((by_a ? by_a->plaintext : by_b->plaintext) == plain->plaintext);
        FUZZ_CHECK(plain->current_key == by_a.has_value());  // A is the ring's first key
        FUZZ_CHECK(!spotauth::KeyRing({fuzz::key_c()}).open(cookie).has_value());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_cookie(input);
    // The input as the claims of an authentic cookie, under either key.
    check_cookie(fuzz::seal_fixed(size % 2 == 0 ? fuzz::key_a() : fuzz::key_b(), input));
    return 0;
}
