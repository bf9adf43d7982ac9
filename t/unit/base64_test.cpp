#include "spotauth/base64.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

using namespace spotauth;

TEST(Base64Url, RoundTripsAllLengths) {
    std::string bytes;
    for (int i = 0; i < 70; ++i) {
        ASSERT_EQ(base64url_decode(base64url_encode(bytes)), bytes) << i;
        bytes += static_cast<char>(i * 37);
    }
}

TEST(Base64Url, UsesUrlAlphabetWithoutPadding) {
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
    EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
}

TEST(Base64Url, RejectsPaddingWhitespaceAndForeignCharacters) {
    EXPECT_FALSE(base64url_decode("-_8="));
    EXPECT_FALSE(base64url_decode("-_8 "));
    EXPECT_FALSE(base64url_decode("+/8"));
    EXPECT_FALSE(base64url_decode("A"));  // a length no encoder produces
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
    // "-_8" is canonical; "-_9" decodes to the same bytes in lax decoders.
    EXPECT_FALSE(base64url_decode("-_9"));
}

TEST(Base64, DecodesOpensslRandOutputWithNewline) {
    const auto key = base64_decode("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->size(), 32u);
}

TEST(Base64, RejectsGarbage) {
    EXPECT_FALSE(base64_decode(""));
    EXPECT_FALSE(base64_decode("not base64!"));
    EXPECT_FALSE(base64_decode("abc"));
}

namespace {

// The decoder as it was, one symbol at a time: what the quartet decoder
// must agree with, input for input.
std::optional<std::string> reference_base64url_decode(std::string_view text) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (const char c : text) {
        const auto value = alphabet.find(c);
        if (value == std::string::npos) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            out += static_cast<char>((bits >> bit_count) & 0xFF);
        }
    }
    if ((bits & ((1u << bit_count) - 1)) != 0) {
        return std::nullopt;
    }
    return out;
}

const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

TEST(Base64Url, AgreesWithASymbolAtATimeDecoder) {
    const std::string foreign("=+/ .\n\x80\xff\0", 9);
    std::mt19937 random(20240601);
    for (int i = 0; i < 200000; ++i) {
        std::string text(random() % 14, '\0');
        for (char& c : text) {
            c = random() % 16 == 0 ? foreign[random() % foreign.size()] : kAlphabet[random() % 64];
        }
        ASSERT_EQ(base64url_decode(text), reference_base64url_decode(text)) << text;
    }
}

TEST(Base64Url, RejectsAForeignByteAnywhere) {
    const std::string encoded = base64url_encode(std::string(50, '\xa5'));  // 67 symbols: 16 quartets and 3
    ASSERT_TRUE(base64url_decode(encoded));
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        for (int byte = 0; byte < 256; ++byte) {
            if (kAlphabet.find(static_cast<char>(byte)) != std::string::npos) {
                continue;
            }
            std::string tampered = encoded;
            tampered[i] = static_cast<char>(byte);
            EXPECT_FALSE(base64url_decode(tampered)) << i << " " << byte;
        }
    }
}

TEST(Base64Url, AcceptsOnlyTheCanonicalLastSymbol) {
    for (const std::string& bytes :
         {std::string("\xff"), std::string("\xff\xff"), std::string("abcd"), std::string("abcde")}) {
        const std::string encoded = base64url_encode(bytes);
        const int unused_bits = encoded.size() % 4 == 2 ? 4 : 2;
        for (int value = 0; value < 64; ++value) {
            std::string text = encoded;
            text.back() = kAlphabet[value];
            const auto decoded = base64url_decode(text);
            if ((value & ((1 << unused_bits) - 1)) != 0) {
                EXPECT_FALSE(decoded) << text;
            } else {
                ASSERT_TRUE(decoded) << text;
                EXPECT_EQ(decoded->size(), bytes.size());
                EXPECT_EQ(base64url_encode(*decoded), text);
            }
        }
    }
}
