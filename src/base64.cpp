#include "spotauth/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace spotauth {
namespace {

// base64url_decode's mark of a byte outside the alphabet.
constexpr std::uint32_t kInvalid = std::uint32_t{1} << 31;

std::string encode_standard(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int written =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
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
                        reinterpret_cast<const unsigned char*>(padded.data()), static_cast<int>(padded.size()));
    if (written < 0) {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts the bytes that padding stands for; drop them.
    const auto pad =
        static_cast<std::size_t>(std::count(padded.end() - std::min<std::size_t>(2, padded.size()), padded.end(), '='));
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

// Table-driven, four symbols (three bytes) per step: session cookies are
// decoded on every first request of a cookie in a worker, and this is
// several times faster than translating to the standard alphabet for
// EVP_DecodeBlock and re-encoding to check canonical form.
std::optional<std::string> base64url_decode(std::string_view text) {
    std::string out;
    if (!base64url_decode_into(text, out)) {
        return std::nullopt;
    }
    return out;
}

bool base64url_decode_into(std::string_view text, std::string& out) {
    // For each byte, its 6-bit value in the URL-safe alphabet shifted to
    // each of the four places of a quartet's 24 bits; bit 31 for a byte
    // outside the alphabet, so OR-ing a quartet's four lookups flags it.
    struct Tables {
        std::array<std::uint32_t, 256> place[4];
    };
    static const Tables kTables = [] {
        Tables t{};
        for (auto& place : t.place) {
            place.fill(kInvalid);
        }
        const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (std::uint32_t i = 0; i < 64; ++i) {
            const auto c = static_cast<unsigned char>(alphabet[i]);
            t.place[0][c] = i << 18;
            t.place[1][c] = i << 12;
            t.place[2][c] = i << 6;
            t.place[3][c] = i;
        }
        return t;
    }();
    const auto& p0 = kTables.place[0];
    const auto& p1 = kTables.place[1];
    const auto& p2 = kTables.place[2];
    const auto& p3 = kTables.place[3];
    const std::size_t tail = text.size() % 4;  // 0, 2 or 3 symbols after the last quartet
    if (tail == 1) {
        return false;
    }
    const std::size_t quartets = text.size() / 4;
    out.resize(quartets * 3 + (tail == 0 ? 0 : tail - 1));
    const auto* in = reinterpret_cast<const unsigned char*>(text.data());
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    // Bad symbols are collected and judged once at the end (no branch per
    // quartet): `out` is unspecified on failure anyway.
    std::uint32_t seen = 0;
    for (std::size_t i = 0; i < quartets; ++i, in += 4, o += 3) {
        const std::uint32_t n = p0[in[0]] | p1[in[1]] | p2[in[2]] | p3[in[3]];
        seen |= n;
        o[0] = static_cast<unsigned char>(n >> 16);
        o[1] = static_cast<unsigned char>(n >> 8);
        o[2] = static_cast<unsigned char>(n);
    }
    if ((seen & kInvalid) != 0) {
        return false;
    }
    // Canonical form only: the unused low bits of the last symbol are zero,
    // so a flipped bit there is not a second valid encoding.
    if (tail == 2) {  // 12 bits: one byte and 4 unused bits
        const std::uint32_t n = p0[in[0]] | p1[in[1]];
        if ((n & kInvalid) != 0 || (n & 0x0F000) != 0) {
            return false;
        }
        o[0] = static_cast<unsigned char>(n >> 16);
    } else if (tail == 3) {  // 18 bits: two bytes and 2 unused bits
        const std::uint32_t n = p0[in[0]] | p1[in[1]] | p2[in[2]];
        if ((n & kInvalid) != 0 || (n & 0x000C0) != 0) {
            return false;
        }
        o[0] = static_cast<unsigned char>(n >> 16);
        o[1] = static_cast<unsigned char>(n >> 8);
    }
    return true;
}

}  // namespace spotauth
