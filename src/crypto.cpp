#include "spotauth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>

namespace spotauth {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx new_cipher_ctx() { return CipherCtx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

// Fetched once: on OpenSSL 3, EVP_aes_256_gcm() makes every init look the
// algorithm up in the provider again.
const EVP_CIPHER* aes_256_gcm() {
    static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher != nullptr ? cipher : EVP_aes_256_gcm();
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

bool valid_key_and_iv(std::string_view key, std::string_view iv) {
    return key.size() == kAesKeyBytes && iv.size() == kGcmIvBytes;
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

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<GcmSealed> aes256gcm_seal(std::string_view key, std::string_view iv,
                                        std::string_view aad, std::string_view plaintext) {
    if (!valid_key_and_iv(key, iv)) {
        return std::nullopt;
    }
    CipherCtx ctx = new_cipher_ctx();
    GcmSealed out{std::string(plaintext.size(), '\0'), std::string(kGcmTagBytes, '\0')};
    int len = 0;
    int final_len = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), aes_256_gcm(), nullptr, bytes(key), bytes(iv)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), bytes(out.ciphertext), &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), bytes(out.ciphertext) + len, &final_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes, bytes(out.tag)) != 1) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> aes256gcm_open(std::string_view key, std::string_view iv,
                                          std::string_view aad, std::string_view ciphertext,
                                          std::string_view tag) {
    if (!valid_key_and_iv(key, iv) || tag.size() != kGcmTagBytes) {
        return std::nullopt;
    }
    CipherCtx ctx = new_cipher_ctx();
    std::string plaintext(ciphertext.size(), '\0');
    std::string tag_copy(tag);  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer
    int len = 0;
    int final_len = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), aes_256_gcm(), nullptr, bytes(key), bytes(iv)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), bytes(plaintext), &len, bytes(ciphertext),
                          static_cast<int>(ciphertext.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, bytes(tag_copy)) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext) + len, &final_len) != 1) {
        return std::nullopt;
    }
    return plaintext;
}

}  // namespace spotauth
