#include "spotauth/provider_text.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace spotauth;

TEST(TokenText, AcceptsVisibleAsciiUpToTheLimit) {
    EXPECT_TRUE(is_token_text("BQ-abc_DEF.123~+/="));
    EXPECT_TRUE(is_token_text(std::string(kMaxTokenBytes, 'A')));
}

TEST(TokenText, RefusesEmptyLongSpacesAndControls) {
    EXPECT_FALSE(is_token_text(""));
    EXPECT_FALSE(is_token_text(std::string(kMaxTokenBytes + 1, 'A')));
    for (const std::string& bad : std::vector<std::string>{"a b", "a\r\nX-Injected: 1", "a\tb", std::string("a\0b", 3),
                                  std::string("a\x7f"), std::string("caf\xc3\xa9")}) {
        EXPECT_FALSE(is_token_text(bad)) << bad;
    }
}

TEST(TokenText, LooksAtEveryByteOfALongToken) {
    // Whole blocks and the tail after them are checked apart: one byte
    // outside 0x21..0x7E anywhere refuses the token.
    for (const char bad : {' ', '\x7f', '\0', '\x80', '\xff'}) {
        for (std::size_t at = 0; at < 40; ++at) {
            std::string token(40, 'A');
            token[at] = bad;
            EXPECT_FALSE(is_token_text(token)) << "byte " << at;
        }
    }
    EXPECT_TRUE(is_token_text(std::string(32, '!') + std::string(7, '~')));
}

TEST(CleanText, DropsC0DelC1AndLineSeparators) {
    EXPECT_EQ(clean_text("Mallory\r\nX-Injected: yes", 100), "MalloryX-Injected: yes");
    EXPECT_EQ(clean_text(std::string("a\0b\x7f" "c", 5), 100), "abc");
    EXPECT_EQ(clean_text("a\xc2\x85" "b\xc2\x9f" "c", 100), "abc");        // NEL, APC (C1)
    EXPECT_EQ(clean_text("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", 100), "abc");  // U+2028, U+2029
}

TEST(CleanText, KeepsOrdinaryUnicode) {
    const std::string name = "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xb5 \xc2\xa0!";
    EXPECT_EQ(clean_text(name, 100), name);
}

TEST(CleanText, ReplacesInvalidUtf8) {
    const std::string replacement = "\xef\xbf\xbd";
    EXPECT_EQ(clean_text("a\xff" "b", 100), "a" + replacement + "b");
    EXPECT_EQ(clean_text("a\xc0\xaf" "b", 100).find("\xc0"), std::string::npos);      // overlong '/'
    EXPECT_EQ(clean_text("a\xed\xa0\x80" "b", 100).find("\xed\xa0"), std::string::npos);  // surrogate
}

TEST(CleanText, CutsAtACharacterBoundary) {
    EXPECT_EQ(clean_text("abcdef", 4), "abcd");
    EXPECT_EQ(clean_text("ab\xc3\xa9", 3), "ab");                // 'é' does not fit whole
    EXPECT_EQ(clean_text("\xf0\x9f\x8e\xb5\xf0\x9f\x8e\xb5", 7), "\xf0\x9f\x8e\xb5");
    EXPECT_EQ(utf8_prefix("ab\xc3\xa9", 3), "ab");
    EXPECT_EQ(utf8_prefix("ab\xc3\xa9", 4), "ab\xc3\xa9");
}

TEST(UserId, IsCleanedNeverCut) {
    EXPECT_EQ(clean_user_id("alice\r\n2026/01/01 [crit] forged"), "alice2026/01/01 [crit] forged");
    EXPECT_EQ(clean_user_id(std::string(kMaxUserIdBytes, 'u')), std::string(kMaxUserIdBytes, 'u'));
    EXPECT_FALSE(clean_user_id(std::string(kMaxUserIdBytes + 1, 'u')));
    EXPECT_FALSE(clean_user_id(""));
    EXPECT_FALSE(clean_user_id("\r\n\x01"));
}

TEST(DisplayName, IsCleanedAndCut) {
    EXPECT_EQ(clean_display_name("Al\nice"), "Alice");
    EXPECT_EQ(clean_display_name(std::string(5000, 'N')), std::string(kMaxDisplayNameBytes, 'N'));
    std::string accented;
    for (int i = 0; i < 200; ++i) accented += "\xc3\xa9";
    const std::string cut = clean_display_name(accented);
    EXPECT_EQ(cut.size(), kMaxDisplayNameBytes);  // 128 whole characters
    EXPECT_EQ(cut, accented.substr(0, kMaxDisplayNameBytes));
}
