#include "spotauth/base64.hpp"

#include <gtest/gtest.h>

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
