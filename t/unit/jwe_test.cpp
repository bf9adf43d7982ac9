#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"
#include "spotauth/jwe.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace spotauth;

namespace {

Key key_of(char fill) { return make_key(std::string(32, fill)); }

std::string header_of(const std::string& token) { return *base64url_decode(token.substr(0, token.find('.'))); }

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
    KeyRing::Opened into;
    ASSERT_TRUE(ring.open(*token, into, 64));
    EXPECT_EQ(into.plaintext, opened->plaintext);
    EXPECT_GE(into.plaintext.capacity(), opened->plaintext.size() + 64);
    // Reused for a token that does not open: no plaintext is left behind.
    EXPECT_FALSE(ring.open(token->substr(0, token->size() - 1), into, 64));
    EXPECT_TRUE(into.plaintext.empty());
}

TEST(Jwe, IsCompactDirA256gcmWithKid) {
    const Key key = key_of('k');
    const auto token = *KeyRing({key}).seal("x");
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 4);
    EXPECT_NE(token.find(".."), std::string::npos);  // empty encrypted key for "dir"
    EXPECT_EQ(header_of(token), "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"" + key.id + "\"}");
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
         {"{\"alg\":\"none\",\"enc\":\"A256GCM\"," + kid + "}", "{\"alg\":\"dir\",\"enc\":\"A128GCM\"," + kid + "}",
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

namespace {

std::string unhex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    }
    return out;
}

}  // namespace

// AES-GCM contexts are reused per thread and only re-keyed when the key
// changes: answers must not depend on what was sealed or opened before.
TEST(Gcm, KnownAnswerWhateverCameBefore) {
    // Test Case 16 of the GCM specification (McGrew and Viega): AES-256, 96-bit IV, AAD.
    const std::string key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const std::string iv = unhex("cafebabefacedbaddecaf888");
    const std::string aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const std::string plaintext = unhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    const std::string ciphertext = unhex(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
    const std::string tag = unhex("76fc6ece0f4e1768cddf8853bb2d551b");
    const std::string other_key(32, 'o');
    const std::string other_iv(12, 'i');
    // One buffer for every opening, as KeyRing's callers keep one.
    std::string buffer;
    const auto open_into = [&buffer](std::string_view k, std::string_view i, std::string_view a, std::string_view c,
                                     std::string_view t, std::size_t spare = 0) -> std::optional<std::string> {
        if (!aes256gcm_open(k, i, a, c, t, buffer, spare)) {
            EXPECT_TRUE(buffer.empty()) << "unauthenticated plaintext left in the buffer";
            return std::nullopt;
        }
        return buffer;
    };
    for (int round = 0; round < 3; ++round) {
        const auto sealed = aes256gcm_seal(key, iv, aad, plaintext);
        ASSERT_TRUE(sealed);
        EXPECT_EQ(sealed->ciphertext, ciphertext);
        EXPECT_EQ(sealed->tag, tag);
        EXPECT_EQ(open_into(key, iv, aad, ciphertext, tag), plaintext);
        // Room after the plaintext for a parser that reads past its end.
        EXPECT_EQ(open_into(key, iv, aad, ciphertext, tag, 64), plaintext);
        EXPECT_GE(buffer.capacity(), plaintext.size() + 64);
        // Failures in between: wrong tag, wrong key, wrong AAD, bad sizes.
        std::string bad_tag = tag;
        bad_tag[round] ^= 1;
        EXPECT_FALSE(open_into(key, iv, aad, ciphertext, bad_tag));
        EXPECT_FALSE(open_into(other_key, iv, aad, ciphertext, tag));
        EXPECT_FALSE(open_into(key, iv, aad + "x", ciphertext, tag));
        EXPECT_FALSE(open_into(key, iv, aad, ciphertext, tag.substr(1)));
        EXPECT_FALSE(open_into(key.substr(1), iv, aad, ciphertext, tag));
        EXPECT_FALSE(aes256gcm_seal(key, iv.substr(1), aad, plaintext));
        // Other keys and IVs in between, both ways.
        const auto other = aes256gcm_seal(other_key, other_iv, "", "other message");
        ASSERT_TRUE(other);
        EXPECT_EQ(open_into(other_key, other_iv, "", other->ciphertext, other->tag), "other message");
        EXPECT_FALSE(open_into(key, other_iv, "", other->ciphertext, other->tag));
        EXPECT_EQ(open_into(key, iv, aad, ciphertext, tag), plaintext);
        EXPECT_FALSE(open_into(key, iv, aad, "", tag));  // truncated to nothing
    }
}

TEST(Jwe, InterleavedKeysAndFailuresDoNotDisturbEachOther) {
    const KeyRing ring_a({key_of('a')});
    const KeyRing ring_b({key_of('b')});
    const KeyRing both({key_of('a'), key_of('b')});
    for (int i = 0; i < 20; ++i) {
        const std::string message = "message " + std::to_string(i);
        const std::string token_a = *ring_a.seal(message);
        const std::string token_b = *ring_b.seal(message);
        std::string tampered = token_a;
        tampered[tampered.size() - 1 - static_cast<std::size_t>(i % 20)] ^= 1;
        EXPECT_FALSE(both.open(tampered));
        EXPECT_EQ(both.open(token_b)->plaintext, message);
        EXPECT_FALSE(ring_b.open(token_a));
        EXPECT_EQ(both.open(token_a)->plaintext, message);
        EXPECT_FALSE(ring_a.open(token_b));
        EXPECT_EQ(ring_a.open(token_a)->plaintext, message);
        EXPECT_EQ(ring_b.open(token_b)->plaintext, message);
    }
}

TEST(Jwe, EachThreadSealsAndOpensOnItsOwn) {
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t, &failures] {
            const KeyRing ring({key_of(static_cast<char>('a' + t % 2))});
            for (int i = 0; i < 300; ++i) {
                const std::string message = std::to_string(t) + ":" + std::to_string(i);
                const auto token = ring.seal(message);
                const auto opened = token ? ring.open(*token) : std::nullopt;
                if (!opened || opened->plaintext != message) {
                    ++failures[static_cast<std::size_t>(t)];
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// The same derivation as Python's cryptography HKDF, Node's hkdfSync and
// `openssl kdf ... HKDF` (docs/security.md shows the command).
TEST(ClientKey, IsHkdfSha256OfTheKeyFileWithTheClientIdAsInfo) {
    const auto key = client_key(key_of('z'), "client-a");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->secret, unhex("c7501484265c35ead9863d73134c0838850b4d99cdbf6788bdf5bdfe38400fe6"));
    EXPECT_EQ(key->id, make_key(key->secret).id);  // its kid names the derived key, not the file
    EXPECT_NE(key->id, key_of('z').id);
}

// Two sites sharing a key file with different client ids: a cookie of one
// does not open on the other; cookies sealed with the file's key itself
// (before the binding) open on neither.
TEST(ClientKey, SitesSharingAKeyFileDoNotShareCookies) {
    const KeyRing site_a({*client_key(key_of('k'), "client-a")});
    const KeyRing site_b({*client_key(key_of('k'), "client-b")});
    const std::string token = *site_a.seal("session of a");
    EXPECT_FALSE(site_b.open(token));
    EXPECT_TRUE(KeyRing({*client_key(key_of('k'), "client-a")}).open(token));
    const std::string unbound = *KeyRing({key_of('k')}).seal("sealed before the binding");
    EXPECT_FALSE(site_a.open(unbound));
    EXPECT_FALSE(site_b.open(unbound));
}

TEST(Jwe, ABoundValueOpensOnlyWithItsContext) {
    const KeyRing keys({make_key(std::string(32, 'b'))});
    const auto sealed = keys.seal_bound("payload", "kind\nkey-1");
    ASSERT_TRUE(sealed);
    EXPECT_EQ(keys.open_bound(*sealed, "kind\nkey-1"), "payload");
    EXPECT_FALSE(keys.open_bound(*sealed, "kind\nkey-2"));
    EXPECT_FALSE(keys.open_bound(*sealed, "other\nkey-1"));
    EXPECT_FALSE(keys.open(*sealed));  // nor as an unbound token (a cookie)
    EXPECT_FALSE(keys.open_bound(*sealed, ""));
    EXPECT_FALSE(keys.seal_bound("payload", ""));  // a context is required
    const auto plain = keys.seal("payload");
    ASSERT_TRUE(plain);
    EXPECT_FALSE(keys.open_bound(*plain, "kind\nkey-1"));
}
