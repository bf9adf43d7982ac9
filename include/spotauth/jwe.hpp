// Compact JWE (RFC 7516) with alg "dir" and enc "A256GCM": the key is the
// content-encryption key itself, so any JOSE library opens a token given the
// key (a server's key is derived from its key file and client id: see
// client_key). A `kid` header names the key, which makes rotation possible:
// the first key of a ring seals, every key opens.
#pragma once

#include "spotauth/expected.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth {

struct Key {
    std::string id;      // `kid`: derived from the key, safe to publish
    std::string secret;  // 32 raw bytes
    std::string header;  // the encoded protected header this key seals with
};

// A key file holds the base64 text of 32 random bytes (`openssl rand -base64 32`).
Expected<Key> parse_key_file(std::string_view text);

Key make_key(std::string secret);

// What the HKDF info of a client's key starts with; the client id follows.
inline constexpr std::string_view kClientKeyInfo = "spotauth client key v1:";

// The key a server seals and opens with: HKDF-SHA256 of a key file's 32
// bytes (empty salt, info kClientKeyInfo + client id). Servers that share a
// key file but not a client id then cannot open each other's cookies (a
// session opens only on the site it was made for), at no cost per request.
// nullopt only if OpenSSL fails.
std::optional<Key> client_key(const Key& file_key, std::string_view client_id);

class KeyRing {
public:
    explicit KeyRing(std::vector<Key> keys) : keys_(std::move(keys)) {}

    // Empty only if randomness fails or the ring has no key.
    std::optional<std::string> seal(std::string_view plaintext) const;

    // A value bound to where it is kept: `context` (for example the record's
    // kind and the key it is stored under) is authenticated but neither
    // encrypted nor carried, as the "aad" of RFC 7516's JSON serialization
    // (additional data: the header, ".", the context in base64url). It opens
    // only with the same non-empty context, so a copy under another key, or
    // of another kind, does not open.
    std::optional<std::string> seal_bound(std::string_view plaintext, std::string_view context) const;
    std::optional<std::string> open_bound(std::string_view token, std::string_view context) const;

    struct Opened {
        std::string plaintext;
        // False when an older key of the ring sealed it: the caller
        // re-seals, so sessions move to the current key.
        bool current_key = true;
    };

    // nullopt for anything that is not a JWE this ring sealed, unmodified.
    std::optional<Opened> open(std::string_view token) const;
    // The same into `out`, whose plaintext's memory is reused (a caller that
    // keeps one Opened from token to token allocates once); `spare`: capacity
    // kept after the plaintext (see aes256gcm_open). False: `out` holds no
    // plaintext.
    bool open(std::string_view token, Opened& out, std::size_t spare = 0) const;

    bool empty() const { return keys_.empty(); }

private:
    std::optional<std::string> seal_with(std::string_view plaintext, std::string_view context) const;
    bool open_with(std::string_view token, std::string_view context, Opened& out, std::size_t spare) const;
    const Key* key_for(std::string_view encoded_header) const;
    const Key* find(std::string_view kid) const;
    std::vector<Key> keys_;
};

}  // namespace spotauth
