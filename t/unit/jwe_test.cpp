#include "spotauth/base64.hpp"
#include "spotauth/jwe.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

Key key_of(char fill) { return make_key(std::string(32, fill)); }

std::string header_of(const std::string& token) {
    return *base64url_decode(token.substr(0, token.find('.')));
}

// Replaces the protected header while keeping the rest of the token.
std::string with_header(const std::string& token, const std::string& header_json) {
    return base64url_encode(header_json) + token.substr(token.find('.'));
}

}  // namespace

TEST(Jwe, SealThenOpenRoundTrips) {
    const KeyRing ring({key_of('k')});
    const auto token = ring.seal("{\"hello\":\"world\"}");
    ASSERT_TRUE(token);
    const auto opened = ring.open(*token);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->plaintext, "{\"hello\":\"world\"}");
    EXPECT_TRUE(opened->current_key);
}

TEST(Jwe, IsCompactDirA256gcmWithKid) {
    const Key key = key_of('k');
    const auto token = *KeyRing({key}).seal("x");
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 4);
    EXPECT_NE(token.find(".."), std::string::npos);  // empty encrypted key for "dir"
    EXPECT_EQ(header_of(token),
              "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"" + key.id + "\"}");
}

TEST(Jwe, EveryFlippedByteIsRejected) {
    const KeyRing ring({key_of('k')});
    const std::string token = *ring.seal("{\"sub\":\"alice\"}");
    for (std::size_t i = 0; i < token.size(); ++i) {
        for (const char replacement : {'A', 'B', '_', '.'}) {
            if (token[i] == replacement) {
                continue;
            }
            std::string tampered = token;
            tampered[i] = replacement;
            EXPECT_FALSE(ring.open(tampered)) << "byte " << i << " -> " << replacement;
        }
    }
}

TEST(Jwe, TruncationsAreRejected) {
    const KeyRing ring({key_of('k')});
    const std::string token = *ring.seal("payload");
    for (std::size_t len = 0; len < token.size(); ++len) {
        EXPECT_FALSE(ring.open(token.substr(0, len))) << len;
    }
}

TEST(Jwe, WrongKeyAndUnknownKidAreRejected) {
    const std::string token = *KeyRing({key_of('a')}).seal("payload");
    EXPECT_FALSE(KeyRing({key_of('b')}).open(token));
    // Same kid but another secret: the tag does not verify.
    Key impostor = key_of('b');
    impostor.id = key_of('a').id;
    EXPECT_FALSE(KeyRing({impostor}).open(token));
}

TEST(Jwe, RotationFirstKeySealsAllKeysOpen) {
    const Key old_key = key_of('o');
    const Key new_key = key_of('n');
    const std::string old_token = *KeyRing({old_key}).seal("old");
    const KeyRing rotated({new_key, old_key});
    const auto opened_old = rotated.open(old_token);
    ASSERT_TRUE(opened_old);
    EXPECT_EQ(opened_old->plaintext, "old");
    EXPECT_FALSE(opened_old->current_key);
    const std::string fresh = *rotated.seal("new");
    EXPECT_NE(header_of(fresh).find(new_key.id), std::string::npos);
    EXPECT_FALSE(KeyRing({old_key}).open(fresh));
}

TEST(Jwe, OtherAlgorithmsAndExtraHeadersAreRejected) {
    const Key key = key_of('k');
    const KeyRing ring({key});
    const std::string token = *ring.seal("payload");
    const std::string kid = "\"kid\":\"" + key.id + "\"";
    for (const std::string& header :
         {"{\"alg\":\"none\",\"enc\":\"A256GCM\"," + kid + "}",
          "{\"alg\":\"dir\",\"enc\":\"A128GCM\"," + kid + "}",
          "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\"," + kid + "}",
          "{\"alg\":\"dir\",\"enc\":\"A256GCM\"," + kid + ",\"zip\":\"DEF\"}",
          std::string("{\"alg\":\"dir\",\"enc\":\"A256GCM\"}"), std::string("[]"), std::string("not json")}) {
        EXPECT_FALSE(ring.open(with_header(token, header))) << header;
    }
}

TEST(Jwe, EmptyRingNeitherSealsNorOpens) {
    const KeyRing empty({});
    EXPECT_FALSE(empty.seal("x"));
    EXPECT_FALSE(empty.open(*KeyRing({key_of('k')}).seal("x")));
}

TEST(KeyFile, AcceptsOpensslRandBase64Of32Bytes) {
    const auto key = parse_key_file(base64_encode(std::string(32, 'z')) + "\n");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->secret, std::string(32, 'z'));
    EXPECT_EQ(key->id.size(), 11u);
}

TEST(KeyFile, RejectsShortAndNonBase64WithAHint) {
    const auto short_key = parse_key_file(base64_encode(std::string(16, 'z')));
    ASSERT_FALSE(short_key);
    EXPECT_NE(short_key.error().find("16 bytes"), std::string::npos);
    const auto garbage = parse_key_file("hunter2 is my password");
    ASSERT_FALSE(garbage);
    EXPECT_NE(garbage.error().find("openssl rand -base64 32"), std::string::npos);
}
