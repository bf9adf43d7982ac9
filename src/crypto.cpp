#include "spotauth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>

namespace spotauth {
namespace {

// Fetched once: on OpenSSL 3, EVP_aes_256_gcm() makes every init look the
// algorithm up in the provider again.
const EVP_CIPHER* aes_256_gcm() {
    static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher != nullptr ? cipher : EVP_aes_256_gcm();
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

bool valid_key_and_iv(std::string_view key, std::string_view iv) {
    return key.size() == kAesKeyBytes && iv.size() == kGcmIvBytes;
}

// An AES-256-GCM context kept for the thread and reused from message to
// message: allocating a context and its provider state, and scheduling the
// key, cost more than sealing or opening a cookie. The context remembers
// the key it holds, so a message under the same key only sets its IV.
// (Key and IV set through the *_Init_ex2 functions with a null cipher keep
// the provider context; every init with an IV restarts GCM: counter, GHASH,
// lengths and tag.) After any failure but a tag that does not verify, the
// context is freed and the next message starts afresh.
class ReusedContext {
public:
    explicit ReusedContext(bool encrypt) : encrypt_(encrypt) {}
    ReusedContext(const ReusedContext&) = delete;
    ReusedContext& operator=(const ReusedContext&) = delete;
    ~ReusedContext() { drop(); }

    // A context ready for a message under `key` and `iv` (already checked
    // to be 32 and 12 bytes); null on failure.
    EVP_CIPHER_CTX* begin(std::string_view key, std::string_view iv) {
        const auto init = encrypt_ ? EVP_EncryptInit_ex2 : EVP_DecryptInit_ex2;
        const auto* iv_bytes = reinterpret_cast<const unsigned char*>(iv.data());
        const auto* key_bytes = reinterpret_cast<const unsigned char*>(key.data());
        int ok = 0;
        if (ctx_ == nullptr) {
            ctx_ = EVP_CIPHER_CTX_new();
            ok = ctx_ != nullptr && init(ctx_, aes_256_gcm(), key_bytes, iv_bytes, nullptr);
        } else if (CRYPTO_memcmp(key_, key_bytes, sizeof(key_)) == 0) {
            ok = init(ctx_, nullptr, nullptr, iv_bytes, nullptr);
        } else {
            ok = init(ctx_, nullptr, key_bytes, iv_bytes, nullptr);
        }
        if (ok != 1) {
            drop();
            return nullptr;
        }
        std::memcpy(key_, key_bytes, sizeof(key_));
        return ctx_;
    }

    void drop() {
        EVP_CIPHER_CTX_free(ctx_);
        ctx_ = nullptr;
        OPENSSL_cleanse(key_, sizeof(key_));
    }

private:
    bool encrypt_;
    EVP_CIPHER_CTX* ctx_ = nullptr;
    unsigned char key_[kAesKeyBytes] = {};  // meaningful only while ctx_ is set
};

ReusedContext& seal_context() {
    thread_local ReusedContext context(true);
    return context;
}

ReusedContext& open_context() {
    thread_local ReusedContext context(false);
    return context;
}

}  // namespace

std::optional<std::string> random_bytes(std::size_t count) {
    std::string out(count, '\0');
    if (RAND_bytes(bytes(out), static_cast<int>(count)) != 1) {
        return std::nullopt;
    }
    return out;
}

std::string sha256(std::string_view data) {
    std::string digest(SHA256_DIGEST_LENGTH, '\0');
    SHA256(bytes(data), data.size(), bytes(digest));
    return digest;
}

std::optional<std::string> hkdf_sha256(std::string_view key, std::string_view info, std::size_t length) {
    using Context = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
    const Context ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), &EVP_PKEY_CTX_free);
    std::string out(length, '\0');
    std::size_t out_length = length;
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
        EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), bytes(key), static_cast<int>(key.size())) != 1 ||
        EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes(info), static_cast<int>(info.size())) != 1 ||
        EVP_PKEY_derive(ctx.get(), bytes(out), &out_length) != 1 || out_length != length) {
        return std::nullopt;
    }
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<GcmSealed> aes256gcm_seal(std::string_view key, std::string_view iv, std::string_view aad,
                                        std::string_view plaintext) {
    if (!valid_key_and_iv(key, iv)) {
        return std::nullopt;
    }
    ReusedContext& context = seal_context();
    EVP_CIPHER_CTX* const ctx = context.begin(key, iv);
    if (ctx == nullptr) {
        return std::nullopt;
    }
    GcmSealed out{std::string(plaintext.size(), '\0'), std::string(kGcmTagBytes, '\0')};
    int len = 0;
    int final_len = 0;
    if (EVP_EncryptUpdate(ctx, nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
        EVP_EncryptUpdate(ctx, bytes(out.ciphertext), &len, bytes(plaintext), static_cast<int>(plaintext.size())) !=
            1 ||
        EVP_EncryptFinal_ex(ctx, bytes(out.ciphertext) + len, &final_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagBytes, bytes(out.tag)) != 1) {
        context.drop();
        return std::nullopt;
    }
    return out;
}

bool aes256gcm_open(std::string_view key, std::string_view iv, std::string_view aad, std::string_view ciphertext,
                    std::string_view tag, std::string& plaintext, std::size_t spare) {
    if (!valid_key_and_iv(key, iv) || tag.size() != kGcmTagBytes) {
        return false;
    }
    ReusedContext& context = open_context();
    EVP_CIPHER_CTX* const ctx = context.begin(key, iv);
    if (ctx == nullptr) {
        return false;
    }
    plaintext.reserve(ciphertext.size() + spare);
    plaintext.resize(ciphertext.size());
    // EVP_CTRL_GCM_SET_TAG takes a non-const pointer but only copies the tag.
    void* const tag_bytes = const_cast<char*>(tag.data());
    int len = 0;
    int final_len = 0;
    if (EVP_DecryptUpdate(ctx, nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
        EVP_DecryptUpdate(ctx, bytes(plaintext), &len, bytes(ciphertext), static_cast<int>(ciphertext.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, tag_bytes) != 1) {
        context.drop();
        plaintext.clear();
        return false;
    }
    if (EVP_DecryptFinal_ex(ctx, bytes(plaintext) + len, &final_len) != 1) {
        plaintext.clear();  // the tag does not verify (the context stays usable): no unauthenticated bytes
        return false;
    }
    return true;
}

}  // namespace spotauth
