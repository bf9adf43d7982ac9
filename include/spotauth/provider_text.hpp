// What the provider says about a user and its tokens, checked at the edge:
// tokens go into request headers and ids and names into variables, headers
// and the error log, so none of them may carry a control character, and
// none may be long enough to blow up a cookie. Names are cleaned; ids are
// taken exactly as given or refused.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

inline constexpr std::size_t kMaxTokenBytes = 2048;
inline constexpr std::size_t kMaxUserIdBytes = 255;
inline constexpr std::size_t kMaxDisplayNameBytes = 256;
inline constexpr std::size_t kMaxProfileWordBytes = 32;

// True for 1..kMaxTokenBytes visible ASCII characters (0x21-0x7E): what may
// follow "Bearer " in a header and go into a form body.
bool is_token_text(std::string_view token);

// `text` as valid UTF-8 (invalid sequences become U+FFFD) without control
// characters (C0, DEL, C1, U+2028, U+2029), cut at a character boundary to
// at most `max_bytes`.
std::string clean_text(std::string_view text, std::size_t max_bytes);

// The longest prefix of valid UTF-8 `text` of at most `max_bytes` that ends
// on a character boundary.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

// The user id exactly as given, or nullopt: empty, longer than
// kMaxUserIdBytes, invalid UTF-8, or holding any control or format
// character (Unicode Cc, Cf, Zl, Zp). Never cleaned: "alice" followed by
// an invisible character is another user, not alice.
std::optional<std::string> exact_user_id(std::string_view id);

// The display name cleaned and cut to kMaxDisplayNameBytes.
std::string clean_display_name(std::string_view name);

// A one-word profile value (product, country) cleaned and cut to
// kMaxProfileWordBytes.
std::string clean_profile_word(std::string_view word);

}  // namespace spotauth
