// Base64 variants used by JOSE (base64url, no padding) and by key files
// (standard base64, as `openssl rand -base64 32` writes it).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

std::string base64url_encode(std::string_view bytes);

// Strict: rejects padding, whitespace and characters outside the alphabet.
std::optional<std::string> base64url_decode(std::string_view text);

// The same into `out`, reusing its memory (false, `out` unspecified, when
// base64url_decode would give nullopt).
bool base64url_decode_into(std::string_view text, std::string& out);

std::string base64_encode(std::string_view bytes);

// Standard alphabet with padding; surrounding whitespace is ignored.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace spotauth
