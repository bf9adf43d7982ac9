#include "spotauth/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

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

bool is_base64url_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
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

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1 || !std::all_of(text.begin(), text.end(), is_base64url_char)) {
        return std::nullopt;
    }
    std::string padded(text);
    std::replace(padded.begin(), padded.end(), '-', '+');
    std::replace(padded.begin(), padded.end(), '_', '/');
    padded.append((4 - padded.size() % 4) % 4, '=');
    auto decoded = decode_standard(padded);
    // A flipped character in the unused low bits of the last symbol would
    // otherwise decode to the same bytes: only the canonical form is valid.
    if (!decoded || base64url_encode(*decoded) != text) {
        return std::nullopt;
    }
    return decoded;
}

}  // namespace spotauth
