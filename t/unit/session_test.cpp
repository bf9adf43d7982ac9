#include "spotauth/session.hpp"

#include "session_fixtures.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace spotauth;

namespace {

using test::kNow;
using test::sample_session;

const KeyRing& ring() { return test::test_ring(); }

}  // namespace

TEST(Session, RoundTripsEveryClaim) {
    const auto cookie = seal_session(ring(), sample_session());
    ASSERT_TRUE(cookie);
    const OpenedSession opened = open_session(ring(), *cookie, kNow);
    ASSERT_EQ(opened.status, CookieStatus::valid);
    const Session& s = opened.session;
    EXPECT_EQ(s.user_id, "alice");
    EXPECT_EQ(s.display_name, sample_session().display_name);
    EXPECT_EQ(s.product, "premium");
    EXPECT_EQ(s.country, "SE");
    EXPECT_EQ(s.access_token, "BQ-access");
    EXPECT_EQ(s.refresh_token, "AQ-refresh");
    EXPECT_EQ(s.access_expires_at, 1'700'003'600);
    EXPECT_EQ(s.access_issued_at, 1'700'000'000);
    EXPECT_EQ(s.issued_at, 1'700'000'000);
    EXPECT_EQ(s.expires_at, 1'702'592'000);
}

TEST(Session, ExpiredSessionIsReportedAsExpired) {
    const auto cookie = *seal_session(ring(), sample_session());
    EXPECT_EQ(open_session(ring(), cookie, 1'702'592'000).status, CookieStatus::expired);
}

TEST(Session, AbsentInvalidAndWrongKind) {
    EXPECT_EQ(open_session(ring(), "", 0).status, CookieStatus::absent);
    EXPECT_EQ(open_session(ring(), "garbage", 0).status, CookieStatus::invalid);
    const auto login = *seal_login(ring(), {"state", "verifier", "/", 2'000'000'000});
    EXPECT_EQ(open_session(ring(), login, 0).status, CookieStatus::invalid);
    const auto session = *seal_session(ring(), sample_session());
    EXPECT_FALSE(open_login(ring(), session, 0));
}

TEST(Session, MissingClaimIsInvalid) {
    const auto sealed = ring().seal(R"({"typ":"session","sub":"alice"})");
    EXPECT_EQ(open_session(ring(), *sealed, 0).status, CookieStatus::invalid);
}

// Cookies sealed before provider text was checked at the edge.
static std::string legacy_cookie(const std::string& sub, const std::string& name, const std::string& access) {
    return *ring().seal(nlohmann::json({{"typ", "session"},
                                        {"sub", sub},
                                        {"name", name},
                                        {"access_token", access},
                                        {"refresh_token", "AQ"},
                                        {"access_expires_at", 1'700'003'600},
                                        {"iat", 1'700'000'000},
                                        {"exp", 1'702'592'000}})
                            .dump());
}

TEST(Session, CookieWithoutAccessIssueTimeOpensWithZero) {
    const OpenedSession opened = open_session(ring(), legacy_cookie("alice", "Alice", "BQ"), kNow);
    ASSERT_EQ(opened.status, CookieStatus::valid);
    EXPECT_EQ(opened.session.access_issued_at, 0);
}

TEST(Session, CookieWithoutProductAndCountryOpensWithThemUnknown) {
    const OpenedSession opened = open_session(ring(), legacy_cookie("alice", "Alice", "BQ"), kNow);
    ASSERT_EQ(opened.status, CookieStatus::valid);
    EXPECT_TRUE(opened.session.product.empty());
    EXPECT_TRUE(opened.session.country.empty());
}

TEST(Session, UnknownProductAndCountryAreNotSealed) {
    Session s = sample_session();
    s.product.clear();
    s.country.clear();
    const auto claims = nlohmann::json::parse(ring().open(*seal_session(ring(), s))->plaintext);
    EXPECT_FALSE(claims.contains("product"));
    EXPECT_FALSE(claims.contains("country"));
}

TEST(Session, LegacyCookieNamesAreCleaned) {
    const OpenedSession opened = open_session(ring(), legacy_cookie("alice", "Alice\r\nX-Injected: yes", "BQ"), kNow);
    ASSERT_EQ(opened.status, CookieStatus::valid);
    EXPECT_EQ(opened.session.user_id, "alice");
    EXPECT_EQ(opened.session.display_name, "AliceX-Injected: yes");
}

// An id is never cleaned into another one, even in a cookie sealed before
// ids were checked: "al<CR><LF>ice" is not alice.
TEST(Session, LegacyCookieWithAnInexactIdIsInvalid) {
    EXPECT_EQ(open_session(ring(), legacy_cookie("al\r\nice", "Alice", "BQ"), kNow).status, CookieStatus::invalid);
    EXPECT_EQ(open_session(ring(), legacy_cookie("alice\xE2\x80\xA8", "Alice", "BQ"), kNow).status,
              CookieStatus::invalid);
}

TEST(Session, LegacyCookieWithUnsafeTokenOrIdIsInvalid) {
    EXPECT_EQ(open_session(ring(), legacy_cookie("alice", "A", "BQ\r\nX-Injected: yes"), kNow).status,
              CookieStatus::invalid);
    EXPECT_EQ(open_session(ring(), legacy_cookie("\n", "A", "BQ"), kNow).status, CookieStatus::invalid);
}

// The claims as raw JSON text, sealed: how the parser reads them.
static OpenedSession open_raw(const std::string& claims) { return open_session(ring(), *ring().seal(claims), kNow); }

static const std::string kClaimsTail =
    R"("access_token":"BQ","refresh_token":"AQ","access_expires_at":1700003600,"iat":1700000000,"exp":1702592000)";

TEST(Session, ClaimsParseStrictly) {
    EXPECT_EQ(open_raw(R"({"typ":"session","sub":"alice","name":"A",)" + kClaimsTail + "}").status,
              CookieStatus::valid);
    // Unknown claims (of any type) are ignored; escapes are decoded.
    const OpenedSession extra = open_raw(R"({"typ":"session","x":[1,{"y":null}],"sub":"alice","name":"A\u00e9\"",)" +
                                         kClaimsTail + R"(,"z":1.5})");
    ASSERT_EQ(extra.status, CookieStatus::valid);
    EXPECT_EQ(extra.session.display_name, "A\xc3\xa9\"");
    // Not JSON, not an object, trailing bytes, invalid UTF-8, a wrong type.
    for (const std::string& bad : std::vector<std::string>{
             std::string("not json"),
             "[" + std::string(R"("typ","session")") + "]",
             R"({"typ":"session","sub":"alice","name":"A",)" + kClaimsTail + "} x",
             R"({"typ":"session","sub":"alice","name":"A",)" + kClaimsTail,
             R"({"typ":"session","sub":"alice","name":"A)" + std::string("\xff") + "\"," + kClaimsTail + "}",
             R"({"typ":"session","sub":"alice","name":1,)" + kClaimsTail + "}",
             R"({"typ":"session","sub":"alice","name":"A",)" + kClaimsTail + R"(,"exp":1702592000.0})",
             R"({"typ":"session","sub":"alice","name":"A",)" + kClaimsTail + R"(,"exp":"1702592000"})",
             R"({"typ":"session","sub":"alice","name":"A",)" + kClaimsTail + R"(,"access_issued_at":0})" + "\"",
             R"({"typ":["session"],"sub":"alice","name":"A",)" + kClaimsTail + "}",
         }) {
        EXPECT_EQ(open_raw(bad).status, CookieStatus::invalid) << bad;
    }
}

TEST(Session, RepeatedClaimTakesTheLastValue) {
    const OpenedSession opened =
        open_raw(R"({"typ":"login","typ":"session","sub":"mallory","sub":"alice","name":"A",)" + kClaimsTail + "}");
    ASSERT_EQ(opened.status, CookieStatus::valid);
    EXPECT_EQ(opened.session.user_id, "alice");
    EXPECT_EQ(open_raw(R"({"typ":"session","typ":"login","sub":"alice","name":"A",)" + kClaimsTail + "}").status,
              CookieStatus::invalid);
}

TEST(Session, TimesAreIntegers) {
    // Negative and above INT64_MAX (wraps, as before): still integers.
    const OpenedSession opened = open_raw(R"({"typ":"session","sub":"alice","name":"A",)" + kClaimsTail +
                                          R"(,"access_issued_at":-5,"access_expires_at":18446744073709551615})");
    ASSERT_EQ(opened.status, CookieStatus::valid);
    EXPECT_EQ(opened.session.access_issued_at, -5);
    EXPECT_EQ(opened.session.access_expires_at, -1);
    EXPECT_EQ(open_raw(R"({"typ":"session","sub":"alice","name":"A",)" + kClaimsTail + R"(,"exp":1e10})").status,
              CookieStatus::invalid);
}

TEST(LoginTransaction, ClaimsParseStrictly) {
    const auto open_raw_login = [](const std::string& claims) { return open_login(ring(), *ring().seal(claims), 999); };
    const auto opened =
        open_raw_login(R"({"typ":"login","state":"s","code_verifier":"v","return_to":"/r","exp":1000})");
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->return_to, "/r");
    EXPECT_FALSE(open_raw_login(R"({"typ":"login","state":"s","code_verifier":"v","return_to":"/r","exp":"1000"})"));
    EXPECT_FALSE(open_raw_login(R"({"typ":"login","state":"s","code_verifier":"v","exp":1000})"));
    EXPECT_FALSE(open_raw_login(R"({"typ":"session","state":"s","code_verifier":"v","return_to":"/r","exp":1000})"));
}

TEST(LoginTransaction, RoundTripsUntilItExpires) {
    const LoginTransaction login{"st", "ver", "/dash", 1000};
    const auto cookie = *seal_login(ring(), login);
    const auto opened = open_login(ring(), cookie, 999);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->state, "st");
    EXPECT_EQ(opened->code_verifier, "ver");
    EXPECT_EQ(opened->return_to, "/dash");
    EXPECT_FALSE(open_login(ring(), cookie, 1000));
}

TEST(Session, ReportsCookiesSealedWithAnOlderKey) {
    const Key old_key = make_key(std::string(32, 'o'));
    const Key new_key = make_key(std::string(32, 'n'));
    const auto old_cookie = *seal_session(KeyRing({old_key}), sample_session());
    const KeyRing rotated({new_key, old_key});
    const OpenedSession opened = open_session(rotated, old_cookie, kNow);
    ASSERT_EQ(opened.status, CookieStatus::valid);
    EXPECT_TRUE(opened.old_key);
    const auto fresh = *seal_session(rotated, sample_session());
    EXPECT_FALSE(open_session(rotated, fresh, kNow).old_key);
}
