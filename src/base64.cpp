#include "spotauth/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace spotauth {
namespace {

std::string encode_standard(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int written =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()),
                        static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

// `padded` must be standard base64 whose length is a multiple of four.
std::optional<std::string> decode_standard(std::string_view padded) {
    if (padded.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out(padded.size() / 4 * 3, '\0');
    const int written =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(padded.data()),
                        static_cast<int>(padded.size()));
    if (written < 0) {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts the bytes that padding stands for; drop them.
    const auto pad = static_cast<std::size_t>(std::count(padded.end() - std::min<std::size_t>(2, padded.size()), padded.end(), '='));
    out.resize(static_cast<std::size_t>(written) - pad);
    return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) { return encode_standard(bytes); }

std::optional<std::string> base64_decode(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
    auto decoded = decode_standard(text);
    // Reject non-canonical input (stray bits, misplaced padding) by round trip.
    if (!decoded || encode_standard(*decoded) != text) {
        return std::nullopt;
    }
    return decoded;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out = encode_standard(bytes);
    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
    return out;
}

// Table-driven: session cookies are decoded on every protected request, and
// this is several times faster than translating to the standard alphabet
// for EVP_DecodeBlock and re-encoding to check canonical form.
std::optional<std::string> base64url_decode(std::string_view text) {
    static const auto kValues = [] {
        std::array<std::int8_t, 256> v{};
        v.fill(-1);
        const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int i = 0; i < 64; ++i) {
            v[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
        }
        return v;
    }();
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out(text.size() * 3 / 4, '\0');
    std::size_t written = 0;
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (const char c : text) {
        const int value = kValues[static_cast<unsigned char>(c)];
        if (value < 0) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            out[written++] = static_cast<char>((bits >> bit_count) & 0xFF);
        }
    }
    out.resize(written);
    // Canonical form only: the unused low bits of the last symbol are zero,
    // so a flipped bit there is not a second valid encoding.
    if ((bits & ((1u << bit_count) - 1)) != 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace spotauth
