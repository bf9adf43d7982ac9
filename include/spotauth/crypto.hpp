// Thin, error-returning wrappers over OpenSSL: randomness, hashing, key
// derivation (HKDF), AES-256-GCM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

inline constexpr std::size_t kAesKeyBytes = 32;
inline constexpr std::size_t kGcmIvBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;

// Cryptographically secure random bytes; nullopt only if the CSPRNG fails.
std::optional<std::string> random_bytes(std::size_t count);

std::string sha256(std::string_view data);

// HKDF-SHA256 (RFC 5869) with an empty salt: `length` bytes derived from
// `key` for the purpose `info`; nullopt only if OpenSSL fails.
std::optional<std::string> hkdf_sha256(std::string_view key, std::string_view info, std::size_t length);

// Compares without an early exit, so timing says nothing about where a
// secret and a guess differ.
bool constant_time_equal(std::string_view a, std::string_view b);

struct GcmSealed {
    std::string ciphertext;
    std::string tag;
};

// AES-256-GCM. `key` must be 32 bytes and `iv` 12 bytes; `aad` is
// authenticated but not encrypted.
std::optional<GcmSealed> aes256gcm_seal(std::string_view key, std::string_view iv, std::string_view aad,
                                        std::string_view plaintext);

// False when the tag does not verify (tampered, truncated, wrong key).
// Decrypts into `plaintext`, overwriting it and reusing its memory (a caller
// that keeps the string from message to message allocates once), with at
// least `spare` bytes of capacity after its end, so a parser that reads past
// the end (simdjson) takes it without a copy.
bool aes256gcm_open(std::string_view key, std::string_view iv, std::string_view aad, std::string_view ciphertext,
                    std::string_view tag, std::string& plaintext, std::size_t spare = 0);

}  // namespace spotauth
