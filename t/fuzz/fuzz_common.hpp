// Shared fixtures of the libFuzzer targets: fixed keys, a fixed clock and a
// loud invariant check. Everything here is deterministic, so a crashing
// input reproduces with the same binary.
#pragma once

#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"
#include "spotauth/jwe.hpp"
#include "spotauth/session.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fuzz {

// The fixed clock: 2023-11-14T22:13:20Z.
inline constexpr spotauth::UnixTime kNow = 1700000000;

inline std::string fill_key(unsigned char first) {
    std::string secret(spotauth::kAesKeyBytes, '\0');
    for (std::size_t i = 0; i < secret.size(); ++i) {
        secret[i] = static_cast<char>(first + i * 7);
    }
    return secret;
}

// Key A seals, A and B open (a rotation in progress); C is a stranger.
inline const spotauth::Key& key_a() {
    static const auto k = spotauth::make_key(fill_key(0x11));
    return k;
}
inline const spotauth::Key& key_b() {
    static const auto k = spotauth::make_key(fill_key(0x5a));
    return k;
}
inline const spotauth::Key& key_c() {
    static const auto k = spotauth::make_key(fill_key(0xc3));
    return k;
}

inline const spotauth::KeyRing& ring() {
    static const spotauth::KeyRing r({key_a(), key_b()});
    return r;
}

// A compact JWE of `plaintext` under `key` with a fixed IV, built the way
// KeyRing::seal builds it but without randomness.
inline std::string seal_fixed(const spotauth::Key& key, std::string_view plaintext) {
    const std::string header =
        spotauth::base64url_encode(std::string(R"({"alg":"dir","enc":"A256GCM","kid":")") + key.id + "\"}");
    const std::string iv(spotauth::kGcmIvBytes, '\x42');
    const auto sealed = spotauth::aes256gcm_seal(key.secret, iv, header, plaintext);
    if (!sealed) {
        std::abort();
    }
    return header + ".." + spotauth::base64url_encode(iv) + "." + spotauth::base64url_encode(sealed->ciphertext) + "." +
           spotauth::base64url_encode(sealed->tag);
}

// The login transaction of the fixed login cookie (see login_cookie()).
inline const spotauth::LoginTransaction& fixed_login() {
    static const spotauth::LoginTransaction login{"Zm9vYmFyYmF6cXV4LXN0YXRlLW9mLXRoZS1sb2dpbg",
                                                  "dmVyaWZpZXItdmVyaWZpZXItdmVyaWZpZXItdmVyaWZp", "/app?x=1",
                                                  kNow + 600};
    return login;
}

inline const std::string& login_cookie() {
    static const std::string cookie = [] {
        const auto sealed = spotauth::seal_login(ring(), fixed_login());
        if (!sealed) {
            std::abort();
        }
        return *sealed;
    }();
    return cookie;
}

}  // namespace fuzz

// An invariant the core broke: say which, then abort so libFuzzer keeps the input.
#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)
