// Checking and cleaning what the provider says (see provider_text.hpp).
#include "spotauth/provider_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>

namespace spotauth {
namespace {

bool is_plain_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 0x20 && c < 0x7F;
    });
}

// nlohmann's UTF-8 check (overlongs, surrogates and stray bytes included)
// does the validation: dumping with `replace` writes U+FFFD for every
// invalid sequence, and parsing the dumped string back gives the text.
std::string valid_utf8(std::string_view text) {
    using json = nlohmann::json;
    const std::string dumped = json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
    const json parsed = json::parse(dumped, nullptr, false);
    return parsed.is_string() ? parsed.get<std::string>() : std::string();
}

// Bytes in the UTF-8 sequence that `lead` starts (valid UTF-8 only).
std::size_t sequence_length(unsigned char lead) {
    if (lead < 0x80)
        return 1;
    if (lead < 0xE0)
        return 2;
    if (lead < 0xF0)
        return 3;
    return 4;
}

// C0, DEL, C1 (U+0080-U+009F), LINE and PARAGRAPH SEPARATOR.
bool is_control(std::string_view character) {
    const auto b0 = static_cast<unsigned char>(character[0]);
    if (character.size() == 1) {
        return b0 < 0x20 || b0 == 0x7F;
    }
    const auto b1 = static_cast<unsigned char>(character[1]);
    if (character.size() == 2) {
        return b0 == 0xC2 && b1 < 0xA0;
    }
    return character.size() == 3 && b0 == 0xE2 && b1 == 0x80 &&
           (static_cast<unsigned char>(character[2]) == 0xA8 || static_cast<unsigned char>(character[2]) == 0xA9);
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The code point of one character of valid UTF-8.
char32_t code_point(std::string_view character) {
    const auto b = [&](std::size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(character[i])); };
    switch (character.size()) {
        case 1: return b(0);
        case 2: return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
        case 3: return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
        default: return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
    }
}

// Unicode's general categories Cc (controls), Cf (format: invisible
// joiners, direction marks, the BOM, tags...), Zl and Zp (line and
// paragraph separators), as of Unicode 15.1.
bool is_control_or_format(char32_t c) {
    struct Range {
        char32_t first, last;
    };
    static constexpr Range kRanges[] = {
        {0x0000, 0x001F},   {0x007F, 0x009F},   {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},
        {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
        {0x200B, 0x200F},   {0x2028, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},   {0xFEFF, 0xFEFF},
        {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
        {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
    };
    return std::any_of(std::begin(kRanges), std::end(kRanges),
                       [c](const Range& r) { return c >= r.first && c <= r.last; });
}

unsigned char outside_token_range(char ch) {
    return static_cast<unsigned char>(static_cast<unsigned char>(ch) - 0x21) >= 0x5E ? 1 : 0;
}

}  // namespace

// Runs on both tokens of every cookie a worker opens. Every byte is looked
// at, without an early exit, and in blocks of a fixed size OR-ed into as
// many lanes, which the compiler turns into one vector step per block even
// at -O2 (a loop of unknown length stays scalar there: 9 instructions per
// byte).
bool is_token_text(std::string_view token) {
    if (token.empty() || token.size() > kMaxTokenBytes) {
        return false;
    }
    constexpr std::size_t kLanes = 16;
    unsigned char lanes[kLanes] = {};
    std::size_t i = 0;
    for (; i + kLanes <= token.size(); i += kLanes) {
        for (std::size_t lane = 0; lane < kLanes; ++lane) {
            lanes[lane] |= outside_token_range(token[i + lane]);
        }
    }
    unsigned char outside = 0;  // nonzero once a byte is outside 0x21..0x7E
    for (; i < token.size(); ++i) {
        outside |= outside_token_range(token[i]);
    }
    for (const unsigned char lane : lanes) {
        outside |= lane;
    }
    return outside == 0;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) {
        return text;
    }
    std::size_t end = max_bytes;
    while (end > 0 && is_continuation(text[end])) {
        --end;
    }
    return text.substr(0, end);
}

std::string clean_text(std::string_view text, std::size_t max_bytes) {
    if (is_plain_ascii(text)) {  // the common case, without a round trip
        return std::string(text.substr(0, max_bytes));
    }
    const std::string valid = valid_utf8(text);
    std::string out;
    out.reserve(std::min(valid.size(), max_bytes));
    for (std::size_t i = 0; i < valid.size();) {
        const std::size_t n = std::min(sequence_length(static_cast<unsigned char>(valid[i])), valid.size() - i);
        const std::string_view character(valid.data() + i, n);
        i += n;
        if (is_control(character)) {
            continue;
        }
        if (out.size() + n > max_bytes) {
            break;
        }
        out.append(character);
    }
    return out;
}

std::optional<std::string> exact_user_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxUserIdBytes) {
        return std::nullopt;
    }
    if (is_plain_ascii(id)) {
        return std::string(id);  // printable ASCII holds no control or format character
    }
    if (valid_utf8(id) != id) {
        return std::nullopt;  // replacing a sequence would make another id
    }
    for (std::size_t i = 0; i < id.size();) {
        const std::size_t n = sequence_length(static_cast<unsigned char>(id[i]));
        if (is_control_or_format(code_point(id.substr(i, n)))) {
            return std::nullopt;
        }
        i += n;
    }
    return std::string(id);
}

std::string clean_display_name(std::string_view name) { return clean_text(name, kMaxDisplayNameBytes); }

std::string clean_profile_word(std::string_view word) { return clean_text(word, kMaxProfileWordBytes); }

}  // namespace spotauth
