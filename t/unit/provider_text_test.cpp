#include "spotauth/provider_text.hpp"

#include <gtest/gtest.h>

#include <utility>
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
    EXPECT_EQ(clean_text(std::string("a\0b\x7f"
                                     "c",
                                     5),
                         100),
              "abc");
    EXPECT_EQ(clean_text("a\xc2\x85"
                         "b\xc2\x9f"
                         "c",
                         100),
              "abc");  // NEL, APC (C1)
    EXPECT_EQ(clean_text("a\xe2\x80\xa8"
                         "b\xe2\x80\xa9"
                         "c",
                         100),
              "abc");  // U+2028, U+2029
}

TEST(CleanText, KeepsOrdinaryUnicode) {
    const std::string name = "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xb5 \xc2\xa0!";
    EXPECT_EQ(clean_text(name, 100), name);
}

TEST(CleanText, ReplacesInvalidUtf8) {
    const std::string replacement = "\xef\xbf\xbd";
    EXPECT_EQ(clean_text("a\xff"
                         "b",
                         100),
              "a" + replacement + "b");
    EXPECT_EQ(clean_text("a\xc0\xaf"
                         "b",
                         100)
                  .find("\xc0"),
              std::string::npos);  // overlong '/'
    EXPECT_EQ(clean_text("a\xed\xa0\x80"
                         "b",
                         100)
                  .find("\xed\xa0"),
              std::string::npos);  // surrogate
}

TEST(CleanText, CutsAtACharacterBoundary) {
    EXPECT_EQ(clean_text("abcdef", 4), "abcd");
    EXPECT_EQ(clean_text("ab\xc3\xa9", 3), "ab");  // 'é' does not fit whole
    EXPECT_EQ(clean_text("\xf0\x9f\x8e\xb5\xf0\x9f\x8e\xb5", 7), "\xf0\x9f\x8e\xb5");
    EXPECT_EQ(utf8_prefix("ab\xc3\xa9", 3), "ab");
    EXPECT_EQ(utf8_prefix("ab\xc3\xa9", 4), "ab\xc3\xa9");
}

TEST(UserId, IsTakenExactlyNeverCut) {
    EXPECT_EQ(exact_user_id("alice"), "alice");
    EXPECT_EQ(exact_user_id("j\xC3\xBCrgen.m\xC3\xBCller"), "j\xC3\xBCrgen.m\xC3\xBCller");
    EXPECT_EQ(exact_user_id("\xF0\x9F\x8E\xB5 music"), "\xF0\x9F\x8E\xB5 music");  // an emoji and a space
    EXPECT_EQ(exact_user_id(std::string(kMaxUserIdBytes, 'u')), std::string(kMaxUserIdBytes, 'u'));
    EXPECT_FALSE(exact_user_id(std::string(kMaxUserIdBytes + 1, 'u')));
    EXPECT_FALSE(exact_user_id(""));
}

// Each of these was cleaned into "alice" before: another user's id.
TEST(UserId, WithAControlOrFormatCharacterIsRefusedNotCleaned) {
    const std::pair<const char*, std::string> cases[] = {
        {"TAB", "alice\t"},
        {"LF", "alice\n"},
        {"CR LF", "alice\r\n"},
        {"NUL", std::string("alice\0", 6)},
        {"ESC before",
         "\x1B"
         "alice"},
        {"DEL", "alice\x7F"},
        {"NEL U+0085", "alice\xC2\x85"},
        {"C1 U+009B", "alice\xC2\x9B"},
        {"LINE SEPARATOR U+2028", "alice\xE2\x80\xA8"},
        {"PARAGRAPH SEPARATOR U+2029", "alice\xE2\x80\xA9"},
        {"ZERO WIDTH JOINER U+200D", "alice\xE2\x80\x8D"},
        {"ZERO WIDTH SPACE U+200B",
         "ali\xE2\x80\x8B"
         "ce"},
        {"RIGHT-TO-LEFT OVERRIDE U+202E",
         "\xE2\x80\xAE"
         "alice"},
        {"WORD JOINER U+2060", "alice\xE2\x81\xA0"},
        {"BOM U+FEFF",
         "\xEF\xBB\xBF"
         "alice"},
        {"SOFT HYPHEN U+00AD",
         "ali\xC2\xAD"
         "ce"},
        {"ARABIC LETTER MARK U+061C", "alice\xD8\x9C"},
        {"TAG LATIN SMALL A U+E0061", "alice\xF3\xA0\x81\xA1"},
        {"INTERLINEAR ANNOTATION U+FFF9", "alice\xEF\xBF\xB9"},
        {"invalid UTF-8", "alice\xFF"},
        {"overlong NUL", "alice\xC0\x80"},
        {"lone surrogate", "alice\xED\xA0\x80"},
    };
    for (const auto& [name, id] : cases) {
        EXPECT_FALSE(exact_user_id(id)) << name;
    }
}

TEST(UserId, NeighboursOfTheRefusedRangesAreKept) {
    EXPECT_TRUE(exact_user_id("alice\xC2\xA0"));      // NO-BREAK SPACE U+00A0 (Zs)
    EXPECT_TRUE(exact_user_id("alice\xE2\x80\xAF"));  // NARROW NO-BREAK SPACE U+202F (Zs)
    EXPECT_TRUE(exact_user_id("alice\xE2\x80\x90"));  // HYPHEN U+2010
    EXPECT_TRUE(exact_user_id("alice\xEF\xBF\xBC"));  // OBJECT REPLACEMENT CHARACTER U+FFFC (So)
    EXPECT_TRUE(exact_user_id("alice "));             // SPACE
    EXPECT_TRUE(exact_user_id("alice~"));
}

TEST(DisplayName, IsCleanedAndCut) {
    EXPECT_EQ(clean_display_name("Al\nice"), "Alice");
    EXPECT_EQ(clean_display_name(std::string(5000, 'N')), std::string(kMaxDisplayNameBytes, 'N'));
    std::string accented;
    for (int i = 0; i < 200; ++i)
        accented += "\xc3\xa9";
    const std::string cut = clean_display_name(accented);
    EXPECT_EQ(cut.size(), kMaxDisplayNameBytes);  // 128 whole characters
    EXPECT_EQ(cut, accented.substr(0, kMaxDisplayNameBytes));
}
