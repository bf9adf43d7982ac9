#include "spotauth/jwe.hpp"

#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"

#include <nlohmann/json.hpp>

#include <array>

namespace spotauth {
namespace {

using json = nlohmann::json;

constexpr std::size_t kKidHashBytes = 8;

// The five dot-separated parts of a compact JWE.
struct CompactParts {
    std::string_view header, encrypted_key, iv, ciphertext, tag;
};

// A thread's buffers for the binary parts of the token it opens, kept from
// token to token: a worker opens every cookie it has not seen, and
// allocating these was a third of that path's allocations.
struct DecodedParts {
    std::string iv;
    std::string ciphertext;
    std::string tag;
};

DecodedParts& decoded_parts() {
    thread_local DecodedParts parts;
    return parts;
}

std::optional<CompactParts> split_compact(std::string_view token) {
    std::array<std::string_view, 5> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::size_t dot = token.find('.', start);
        const bool last = i + 1 == parts.size();
        if ((dot == std::string_view::npos) != last) {
            return std::nullopt;
        }
        parts[i] = token.substr(start, last ? std::string_view::npos : dot - start);
        start = dot + 1;
    }
    return CompactParts{parts[0], parts[1], parts[2], parts[3], parts[4]};
}

// Only the exact algorithm pair we seal with is accepted: no "none", no
// key wrapping, no compression, no critical extensions.
std::optional<std::string> kid_of_header(std::string_view encoded_header) {
    const auto raw = base64url_decode(encoded_header);
    if (!raw) {
        return std::nullopt;
    }
    const json header = json::parse(*raw, nullptr, false);
    if (!header.is_object() || header.size() != 3) {
        return std::nullopt;
    }
    const auto alg = header.find("alg");
    const auto enc = header.find("enc");
    const auto kid = header.find("kid");
    if (alg == header.end() || enc == header.end() || kid == header.end() || *alg != "dir" || *enc != "A256GCM" ||
        !kid->is_string()) {
        return std::nullopt;
    }
    return kid->get<std::string>();
}

}  // namespace

Key make_key(std::string secret) {
    std::string id = base64url_encode(sha256(secret).substr(0, kKidHashBytes));
    const json header = {{"alg", "dir"}, {"enc", "A256GCM"}, {"kid", id}};
    return Key{std::move(id), std::move(secret), base64url_encode(header.dump())};
}

std::optional<Key> client_key(const Key& file_key, std::string_view client_id) {
    auto secret = hkdf_sha256(file_key.secret, std::string(kClientKeyInfo) + std::string(client_id), kAesKeyBytes);
    if (!secret) {
        return std::nullopt;
    }
    return make_key(std::move(*secret));
}

Expected<Key> parse_key_file(std::string_view text) {
    const auto secret = base64_decode(text);
    if (!secret) {
        return Expected<Key>::failure("is not base64 text; create it with \"openssl rand -base64 32\"");
    }
    if (secret->size() != kAesKeyBytes) {
        return Expected<Key>::failure("holds " + std::to_string(secret->size()) +
                                      " bytes, 32 are required; create it with "
                                      "\"openssl rand -base64 32\"");
    }
    return make_key(*secret);
}

// Our own tokens carry exactly the header their key seals with: compare
// strings, and parse (strictly) only headers written by other serializers.
const Key* KeyRing::key_for(std::string_view encoded_header) const {
    for (const Key& key : keys_) {
        if (key.header == encoded_header) {
            return &key;
        }
    }
    const auto kid = kid_of_header(encoded_header);
    return kid ? find(*kid) : nullptr;
}

const Key* KeyRing::find(std::string_view kid) const {
    for (const Key& key : keys_) {
        if (key.id == kid) {
            return &key;
        }
    }
    return nullptr;
}

namespace {

// The additional data of a bound value: the header as it travels, ".", and
// the context in base64url.
std::string additional_data(std::string_view header, std::string_view context) {
    std::string aad(header);
    aad += '.';
    aad += base64url_encode(context);
    return aad;
}

}  // namespace

std::optional<std::string> KeyRing::seal(std::string_view plaintext) const { return seal_with(plaintext, {}); }

std::optional<std::string> KeyRing::seal_bound(std::string_view plaintext, std::string_view context) const {
    if (context.empty()) {
        return std::nullopt;
    }
    return seal_with(plaintext, context);
}

std::optional<std::string> KeyRing::open_bound(std::string_view token, std::string_view context) const {
    Opened opened;
    if (context.empty() || !open_with(token, context, opened, 0)) {
        return std::nullopt;
    }
    return std::move(opened.plaintext);
}

std::optional<std::string> KeyRing::seal_with(std::string_view plaintext, std::string_view context) const {
    if (keys_.empty()) {
        return std::nullopt;
    }
    const Key& key = keys_.front();
    const auto iv = random_bytes(kGcmIvBytes);
    if (!iv) {
        return std::nullopt;
    }
    const auto sealed = context.empty()
                            ? aes256gcm_seal(key.secret, *iv, key.header, plaintext)
                            : aes256gcm_seal(key.secret, *iv, additional_data(key.header, context), plaintext);
    if (!sealed) {
        return std::nullopt;
    }
    return key.header + ".." + base64url_encode(*iv) + "." + base64url_encode(sealed->ciphertext) + "." +
           base64url_encode(sealed->tag);
}

std::optional<KeyRing::Opened> KeyRing::open(std::string_view token) const {
    Opened opened;
    if (!open(token, opened)) {
        return std::nullopt;
    }
    return opened;
}

bool KeyRing::open(std::string_view token, Opened& out, std::size_t spare) const {
    return open_with(token, {}, out, spare);
}

bool KeyRing::open_with(std::string_view token, std::string_view context, Opened& out, std::size_t spare) const {
    out.plaintext.clear();
    const auto parts = split_compact(token);
    if (!parts || !parts->encrypted_key.empty()) {
        return false;
    }
    const Key* key = key_for(parts->header);
    if (key == nullptr) {
        return false;
    }
    DecodedParts& decoded = decoded_parts();
    if (!base64url_decode_into(parts->iv, decoded.iv) ||
        !base64url_decode_into(parts->ciphertext, decoded.ciphertext) ||
        !base64url_decode_into(parts->tag, decoded.tag)) {
        return false;
    }
    // The AAD is the header exactly as it travelled (RFC 7516 section 5.1),
    // with the bound context after it (no allocation for a cookie).
    const bool opened = context.empty()
                            ? aes256gcm_open(key->secret, decoded.iv, parts->header, decoded.ciphertext, decoded.tag,
                                             out.plaintext, spare)
                            : aes256gcm_open(key->secret, decoded.iv, additional_data(parts->header, context),
                                             decoded.ciphertext, decoded.tag, out.plaintext, spare);
    if (!opened) {
        return false;
    }
    out.current_key = key == &keys_.front();
    return true;
}

}  // namespace spotauth
