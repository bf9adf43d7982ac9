#include "spotauth/oauth.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

ClientConfig client() {
    ClientConfig c;
    c.client_id = "my client";
    c.client_secret = "s3cr:t";
    c.redirect_uri = "https://example.org/auth/callback";
    c.scopes = "user-read-email user-top-read";
    c.authorize_url = "https://accounts.spotify.com/authorize";
    c.token_url = "https://accounts.spotify.com/api/token";
    c.api_url = "https://api.spotify.com/";
    return c;
}

}  // namespace

TEST(Pkce, MatchesRfc7636AppendixB) {
    EXPECT_EQ(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
              "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(RandomToken, Has256BitsAndIsUrlSafe) {
    const auto a = random_token();
    const auto b = random_token();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 43u);
    EXPECT_NE(*a, *b);
    EXPECT_EQ(a->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
}

TEST(AuthorizeUrl, CarriesEveryParameterEscaped) {
    EXPECT_EQ(authorize_url(client(), "st/ate", "chal"),
              "https://accounts.spotify.com/authorize?client_id=my%20client&response_type=code"
              "&redirect_uri=https%3A%2F%2Fexample.org%2Fauth%2Fcallback"
              "&scope=user-read-email%20user-top-read&state=st%2Fate"
              "&code_challenge_method=S256&code_challenge=chal");
}

// "Sign in with another account": Spotify shows its dialog (with "Not
// you?") instead of signing the remembered account in again.
TEST(AuthorizeUrl, SwitchingAccountsAsksSpotifyToShowItsDialog) {
    const std::string url = authorize_url(client(), "st", "chal", AccountChoice::choose);
    EXPECT_EQ(url, authorize_url(client(), "st", "chal") + "&show_dialog=true");
    EXPECT_EQ(authorize_url(client(), "st", "chal").find("show_dialog"), std::string::npos);
}

TEST(AuthorizeUrl, OnlySwitchOneChoosesAnAccount) {
    EXPECT_EQ(account_choice(std::string_view("1")), AccountChoice::choose);
    EXPECT_EQ(account_choice(std::nullopt), AccountChoice::keep);
    for (const std::string_view other : {"", "0", "true", "11", "1 "}) {
        EXPECT_EQ(account_choice(other), AccountChoice::keep) << other;
    }
}

TEST(ClientAuth, FormEncodesBeforeBase64) {
    // base64("my%20client:s3cr%3At")
    EXPECT_EQ(basic_auth_header(client()), "Authorization: Basic bXklMjBjbGllbnQ6czNjciUzQXQ=");
}

TEST(TokenRequests, Bodies) {
    EXPECT_EQ(code_exchange_body(client(), "c0de", "v"),
              "grant_type=authorization_code&code=c0de"
              "&redirect_uri=https%3A%2F%2Fexample.org%2Fauth%2Fcallback&code_verifier=v");
    EXPECT_EQ(refresh_body("AQ/x"), "grant_type=refresh_token&refresh_token=AQ%2Fx");
    EXPECT_EQ(default_profile_url(client().api_url), "https://api.spotify.com/v1/me");
}

TEST(TokenResponse, SuccessWithRotation) {
    const auto r = parse_token_response(
        200, R"({"access_token":"BQ1","token_type":"Bearer","expires_in":3600,"refresh_token":"AQ2","scope":"x"})");
    EXPECT_EQ(r.outcome, TokenOutcome::ok);
    EXPECT_EQ(r.access_token, "BQ1");
    EXPECT_EQ(r.refresh_token, "AQ2");
    EXPECT_EQ(r.expires_in, 3600);
}

TEST(TokenResponse, SuccessWithoutRefreshTokenKeepsItAbsent) {
    const auto r = parse_token_response(200, R"({"access_token":"BQ1","token_type":"bearer","expires_in":60})");
    EXPECT_EQ(r.outcome, TokenOutcome::ok);
    EXPECT_FALSE(r.refresh_token);
    EXPECT_EQ(r.expires_in, 60);
}

TEST(TokenResponse, AbsurdLifetimeIsClampedNotOverflowed) {
    const auto r = parse_token_response(200, R"({"access_token":"a","expires_in":9223372036854775807})");
    EXPECT_EQ(r.outcome, TokenOutcome::ok);
    EXPECT_EQ(r.expires_in, 365 * 86400);
    EXPECT_GT(new_session({"u", "U"}, r, 1'700'000'000, 60).access_expires_at, 1'700'000'000);
}

TEST(TokenResponse, InvalidGrantIsPermanent) {
    const auto r =
        parse_token_response(400, R"({"error":"invalid_grant","error_description":"Refresh token revoked"})");
    EXPECT_EQ(r.outcome, TokenOutcome::permanent);
    EXPECT_EQ(r.error, "invalid_grant");
    EXPECT_EQ(r.description, "HTTP 400: Refresh token revoked");
}

TEST(TokenResponse, InvalidClientIsMisconfiguration) {
    EXPECT_EQ(parse_token_response(400, R"({"error":"invalid_client"})").outcome, TokenOutcome::misconfigured);
    EXPECT_EQ(parse_token_response(401, R"({"error":"invalid_client"})").outcome, TokenOutcome::misconfigured);
    EXPECT_EQ(parse_token_response(404, "<html>not found</html>").outcome, TokenOutcome::misconfigured);
}

TEST(TokenResponse, TransientFailures) {
    for (const auto& [status, body] :
         std::vector<std::pair<long, std::string>>{{0, ""},
                                                   {500, R"({"error":"server_error"})"},
                                                   {503, "<html>down</html>"},
                                                   {429, R"({"error":"rate_limited"})"},
                                                   {200, "<html><body>Bad gateway</body></html>"},
                                                   {200, R"({"access_tok)"},
                                                   {200, R"({"token_type":"Bearer","expires_in":3600})"},
                                                   {200, R"({"access_token":"x","expires_in":"soon"})"},
                                                   {200, R"({"access_token":"x","expires_in":-5})"},
                                                   {200, R"({"access_token":42})"},
                                                   {200, "[]"}}) {
        EXPECT_EQ(parse_token_response(status, body).outcome, TokenOutcome::transient) << status << " " << body;
    }
}

TEST(TokenResponse, NonBearerTokenTypeIsRefused) {
    EXPECT_EQ(parse_token_response(200, R"({"access_token":"x","token_type":"mac"})").outcome,
              TokenOutcome::misconfigured);
}

TEST(TokenResponse, DescriptionIsBoundedAndPrintable) {
    const std::string body = R"({"error":"invalid_grant","error_description":")" + std::string(1000, 'x') + "\\n\"}";
    const auto r = parse_token_response(400, body);
    EXPECT_LE(r.description.size(), 220u);
    EXPECT_EQ(r.description.find('\n'), std::string::npos);
}

TEST(Profile, ParsesIdAndName) {
    const auto p = parse_profile(200, R"({"id":"alice","display_name":"Alice"})");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, "alice");
    EXPECT_EQ(p->display_name, "Alice");
}

TEST(Profile, ProductAndCountryAreKeptCleaned) {
    const auto p = parse_profile(200, R"({"id":"alice","product":"premium","country":"SE"})");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->product, "premium");
    EXPECT_EQ(p->country, "SE");
    const auto hostile = parse_profile(
        200, R"({"id":"m","product":"free\r\nX-Injected: yes","country":")" + std::string(100, 'C') + R"("})");
    ASSERT_TRUE(hostile);
    EXPECT_EQ(hostile->product, "freeX-Injected: yes");
    EXPECT_EQ(hostile->country.size(), 32u);
    // Without scope user-read-private Spotify sends neither: unknown.
    const auto plain = parse_profile(200, R"({"id":"bob","product":null})");
    EXPECT_TRUE(plain->product.empty());
    EXPECT_TRUE(plain->country.empty());
}

TEST(Profile, NullDisplayNameFallsBackToId) {
    EXPECT_EQ(parse_profile(200, R"({"id":"bob","display_name":null})")->display_name, "bob");
}

TEST(Profile, RejectsErrorsAndGarbage) {
    EXPECT_FALSE(parse_profile(401, R"({"error":{"status":401}})"));
    EXPECT_FALSE(parse_profile(200, "nope"));
    EXPECT_FALSE(parse_profile(200, R"({"display_name":"no id"})"));
}

TEST(TokenResponse, MalformedTokensAreTransientFailures) {
    const std::string long_token(2049, 'A');
    for (const std::string& body :
         std::vector<std::string>{R"({"access_token":"BQ\r\nX-Injected: yes","expires_in":60})",
                                  R"({"access_token":"BQ 1","expires_in":60})",
                                  R"({"access_token":")" + long_token + R"(","expires_in":60})",
                                  R"({"access_token":"BQ","refresh_token":"AQ\nx","expires_in":60})",
                                  R"({"access_token":"BQ","refresh_token":")" + long_token + R"(","expires_in":60})"}) {
        const auto r = parse_token_response(200, body);
        EXPECT_EQ(r.outcome, TokenOutcome::transient) << body;
        EXPECT_EQ(r.error, "bad_response");
        EXPECT_TRUE(r.access_token.empty());
    }
    EXPECT_EQ(parse_token_response(200, R"({"access_token":")" + std::string(2048, 'A') + R"("})").outcome,
              TokenOutcome::ok);
}

TEST(Profile, ControlCharactersAreRemovedFromTheName) {
    const auto p = parse_profile(200, R"({"id":"mallory","display_name":"Mal\r\nX-Injected: yes\u2028"})");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, "mallory");
    EXPECT_EQ(p->display_name, "MalX-Injected: yes");
}

// Cleaning an id would make it another user's: "alice<U+2028>" is not alice.
TEST(Profile, AnIdWithAControlOrFormatCharacterIsRefused) {
    for (const char* id : {R"(mallory\n2026/01/01 00:00:00 [crit] forged)", R"(alice\u2028)", R"(alice\u2029)",
                           R"(alice\u007f)", R"(alice\u0085)", R"(alice\t)", R"(alice\u0000)", R"(alice\r\n)",
                           R"(\u001balice)", R"(alice\u200d)", R"(\ufeffalice)"}) {
        EXPECT_FALSE(parse_profile(200, std::string(R"({"id":")") + id + R"("})")) << id;
    }
}

TEST(Profile, LongNameIsCutAndBadIdRefused) {
    const auto p = parse_profile(200, R"({"id":"u","display_name":")" + std::string(5000, 'N') + R"("})");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->display_name.size(), 256u);
    EXPECT_FALSE(parse_profile(200, R"({"id":")" + std::string(256, 'u') + R"("})"));
    EXPECT_FALSE(parse_profile(200, R"({"id":"\r\n"})"));
}

TEST(NewSession, SetsExpiriesFromNow) {
    TokenResponse t;
    t.access_token = "BQ";
    t.refresh_token = "AQ";
    t.expires_in = 3600;
    const Session s = new_session({"alice", "Alice"}, t, 1000, 30 * 86400);
    EXPECT_EQ(s.access_expires_at, 4600);
    EXPECT_EQ(s.access_issued_at, 1000);
    EXPECT_EQ(s.issued_at, 1000);
    EXPECT_EQ(s.expires_at, 1000 + 30 * 86400);
    EXPECT_EQ(s.refresh_token, "AQ");
}

TEST(ProviderRequests, TokenRequestIsABasicAuthFormPost) {
    ClientConfig client{"id",
                        "secret",
                        "https://x/cb",
                        "s",
                        "https://a/authorize",
                        "https://a/api/token",
                        "https://api",
                        "https://api/v1/me",
                        {}};
    const HttpRequest req = token_request(client, {1000, 2000, "/ca.pem"}, "grant_type=refresh_token&refresh_token=R");
    EXPECT_EQ(req.url, "https://a/api/token");
    EXPECT_EQ(req.post_body, "grant_type=refresh_token&refresh_token=R");
    EXPECT_EQ(req.headers.front(), basic_auth_header(client));
    EXPECT_EQ(req.connect_timeout_ms, 1000);
    EXPECT_EQ(req.total_timeout_ms, 2000);
    EXPECT_EQ(req.ca_file, "/ca.pem");
    EXPECT_EQ(req.max_response_bytes, 64u * 1024);
}

TEST(ProviderRequests, ProfileRequestCarriesTheAccessToken) {
    ClientConfig client{"id",
                        "secret",
                        "https://x/cb",
                        "s",
                        "https://a/authorize",
                        "https://a/api/token",
                        "https://api/",
                        "https://api/user",
                        {}};
    const HttpRequest req = profile_request(client, {}, "BQ-token");
    EXPECT_EQ(req.url, "https://api/user");
    EXPECT_TRUE(req.post_body.empty());
    EXPECT_EQ(req.headers.front(), "Authorization: Bearer BQ-token");
}

TEST(Profile, ClaimsNameOtherProvidersFields) {
    // GitHub's /user: a numeric id, the login as name.
    auto p = parse_profile(200, R"({"id":12345,"login":"octo","name":"Octo Cat"})", {"id", "login"});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, "12345");
    EXPECT_EQ(p->display_name, "octo");
    // Google's userinfo.
    p = parse_profile(200, R"({"sub":"109876543210987654321","name":"Grace"})", {"sub", "name"});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, "109876543210987654321");
    EXPECT_EQ(p->display_name, "Grace");
}

TEST(Profile, NestedClaimsAndNegativeIds) {
    const auto p = parse_profile(200, R"({"data":{"user":{"id":-7,"profile":{"name":"N\r\nX"}}}})",
                                 {"data.user.id", "data.user.profile.name"});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, "-7");
    EXPECT_EQ(p->display_name, "NX");  // cleaned like Spotify's
}

TEST(Profile, IdsThatAreNotStringsOrIntegersAreRefused) {
    for (const char* body : {R"({"id":1.5})", R"({"id":true})", R"({"id":{"x":1}})", R"({"id":null})",
                             R"({"data":"flat"})", R"({"data":{"user":[1]}})"}) {
        EXPECT_FALSE(parse_profile(200, body, {"id", "name"})) << body;
        EXPECT_FALSE(parse_profile(200, body, {"data.user.id", "name"})) << body;
    }
}

TEST(Profile, NameThatIsNotAStringFallsBackToTheId) {
    EXPECT_EQ(parse_profile(200, R"({"id":42,"name":{"first":"A"}})", {"id", "name"})->display_name, "42");
}

TEST(ProfileClaims, DirectiveArguments) {
    auto c = parse_profile_claims({});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->id, "id");
    EXPECT_EQ(c->name, "display_name");
    c = parse_profile_claims({"name=login"});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->id, "id");
    EXPECT_EQ(c->name, "login");
    c = parse_profile_claims({"id=data.user.id", "name=data.user-info.full_name"});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->id, "data.user.id");
    EXPECT_EQ(c->name, "data.user-info.full_name");
}

TEST(ProfileClaims, BadArgumentsSayWhatIsAllowed) {
    for (const char* arg : {"email=mail", "id", "id=", "id=a..b", "id=.a", "id=a.", "name=a b", "id=a/b"}) {
        const auto c = parse_profile_claims({arg});
        ASSERT_FALSE(c) << arg;
        EXPECT_NE(c.error().find(arg), std::string::npos) << c.error();
    }
    EXPECT_NE(parse_profile_claims({"email=mail"}).error().find("use id=<field> and name=<field>"), std::string::npos);
}

// --- issue 22: client authentication and token answers as providers send them

namespace {

ClientConfig post_client() {
    ClientConfig c = client();
    c.client_auth = ClientAuth::post;
    return c;
}

bool has_header_starting(const HttpRequest& req, std::string_view prefix) {
    for (const std::string& h : req.headers) {
        if (h.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST(ClientAuthPost, CredentialsGoInTheBodyFormEncodedAndNoHeader) {
    const ClientConfig c = post_client();
    EXPECT_EQ(body_credentials(c), "client_id=my%20client&client_secret=s3cr%3At");
    EXPECT_EQ(code_exchange_body(c, "c0de", "v"),
              "grant_type=authorization_code&code=c0de"
              "&redirect_uri=https%3A%2F%2Fexample.org%2Fauth%2Fcallback&code_verifier=v"
              "&client_id=my%20client&client_secret=s3cr%3At");
    EXPECT_EQ(refresh_body("AQ/x", body_credentials(c)),
              "grant_type=refresh_token&refresh_token=AQ%2Fx&client_id=my%20client&client_secret=s3cr%3At");
    const HttpRequest req = token_request(c, {}, code_exchange_body(c, "c0de", "v"));
    EXPECT_FALSE(has_header_starting(req, "Authorization"));
    EXPECT_TRUE(has_header_starting(req, "Content-Type: application/x-www-form-urlencoded"));
    EXPECT_TRUE(has_header_starting(req, "Accept: application/json"));
}

TEST(ClientAuthBasic, StaysTheDefaultWithNothingSecretInTheBody) {
    const ClientConfig c = client();
    EXPECT_EQ(c.client_auth, ClientAuth::basic);
    EXPECT_EQ(body_credentials(c), "");
    EXPECT_EQ(code_exchange_body(c, "c0de", "v").find("client_secret"), std::string::npos);
    const HttpRequest req = token_request(c, {}, refresh_body("AQ"));
    EXPECT_TRUE(has_header_starting(req, "Authorization: Basic "));
}

TEST(AuthorizeUrl, CarriesThePresetsParametersAndLeavesOutAnEmptyScope) {
    ClientConfig c = client();
    c.scopes.clear();
    c.authorize_params = "access_type=offline&prompt=consent";
    EXPECT_EQ(authorize_url(c, "s", "chal"),
              "https://accounts.spotify.com/authorize?client_id=my%20client&response_type=code"
              "&redirect_uri=https%3A%2F%2Fexample.org%2Fauth%2Fcallback&state=s"
              "&code_challenge_method=S256&code_challenge=chal&access_type=offline&prompt=consent");
}

TEST(TokenResponse, ExpiresInAsAStringOfDigitsIsAccepted) {
    const auto r = parse_token_response(
        200, R"({"access_token":"AT","refresh_token":"RT","token_type":"bearer","expires_in":"3600"})");
    EXPECT_EQ(r.outcome, TokenOutcome::ok);
    EXPECT_EQ(r.expires_in, 3600);
    EXPECT_EQ(r.refresh_token, "RT");
    const auto big = parse_token_response(200, R"({"access_token":"AT","expires_in":"9223372036854775807"})");
    EXPECT_EQ(big.outcome, TokenOutcome::ok);
    EXPECT_EQ(big.expires_in, 365 * 86400);
}

TEST(TokenResponse, ExpiresInThatIsNotDigitsOrOutOfRangeIsMalformed) {
    for (const std::string value : {R"("")",
                                    R"(" 3600")",
                                    R"("3600 ")",
                                    R"("+3600")",
                                    R"("-1")",
                                    R"("0")",
                                    R"("36.5")",
                                    R"("3600s")",
                                    R"("0x10")",
                                    R"("٣٦٠٠")",
                                    R"("9223372036854775808")",
                                    R"("99999999999999999999")",
                                    "0",
                                    "-1",
                                    "3600.5",
                                    "1e3",
                                    "18446744073709551615",
                                    "true",
                                    "null",
                                    "[3600]",
                                    R"({"s":1})"}) {
        const auto r = parse_token_response(200, R"({"access_token":"AT","expires_in":)" + value + "}");
        EXPECT_EQ(r.outcome, TokenOutcome::transient) << value;
        EXPECT_EQ(r.error, "bad_response") << value;
    }
}

TEST(TokenResponse, TokenTypeIsComparedWithoutCase) {
    for (const char* type : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
        EXPECT_EQ(
            parse_token_response(200, std::string(R"({"access_token":"AT","token_type":")") + type + "\"}").outcome,
            TokenOutcome::ok)
            << type;
    }
}

TEST(TokenResponse, ScopeIsOptionalAndNotRead) {
    EXPECT_EQ(parse_token_response(200, R"({"access_token":"AT","expires_in":60})").outcome, TokenOutcome::ok);
    EXPECT_EQ(parse_token_response(200, R"({"access_token":"AT","expires_in":60,"scope":["a"]})").outcome,
              TokenOutcome::ok);
}

// Found by fuzz_token_response: an empty error code is still an error with
// a name, whatever the status.
TEST(TokenResponse, AnEmptyErrorMemberIsANamedError) {
    for (const long status : {200L, 400L, 500L}) {
        const auto answer = parse_token_response(status, R"({"error":""})");
        EXPECT_NE(answer.outcome, TokenOutcome::ok) << status;
        EXPECT_EQ(answer.error, "invalid_error_member") << status;
    }
}

TEST(TokenResponse, ErrorMemberWithStatus200IsAnErrorNeverASuccess) {
    // Naver and GitHub answer errors with 200.
    const auto refused =
        parse_token_response(200, R"({"error":"invalid_request","error_description":"no valid data in session"})");
    EXPECT_EQ(refused.outcome, TokenOutcome::misconfigured);
    EXPECT_EQ(refused.error, "invalid_request");
    EXPECT_EQ(refused.description, "HTTP 200: no valid data in session");
    EXPECT_EQ(parse_token_response(200, R"({"error":"bad_verification_code"})").outcome, TokenOutcome::misconfigured);
    EXPECT_EQ(parse_token_response(200, R"({"error":"invalid_grant"})").outcome, TokenOutcome::permanent);
    // Even next to tokens: an answer that says error is not a success.
    const auto mixed =
        parse_token_response(200, R"({"access_token":"AT","refresh_token":"RT","error":"invalid_grant"})");
    EXPECT_EQ(mixed.outcome, TokenOutcome::permanent);
    EXPECT_TRUE(mixed.access_token.empty());
    EXPECT_FALSE(mixed.refresh_token);
    const auto odd = parse_token_response(200, R"({"access_token":"AT","error":{"code":1}})");
    EXPECT_EQ(odd.outcome, TokenOutcome::misconfigured);
    EXPECT_EQ(odd.error, "invalid_error_member");
}

TEST(TokenResponse, ANullErrorMemberIsNoError) {
    EXPECT_EQ(parse_token_response(200, R"({"access_token":"AT","expires_in":60,"error":null})").outcome,
              TokenOutcome::ok);
}

TEST(TokenResponse, WithoutExpiresInOrRefreshTokenTheTokenLastsTheSession) {
    // GitHub's OAuth apps: {"access_token":"gho_…","token_type":"bearer","scope":"read:user"}.
    const auto r = parse_token_response(200, R"({"access_token":"gho_x","token_type":"bearer","scope":"read:user"})");
    ASSERT_EQ(r.outcome, TokenOutcome::ok);
    EXPECT_FALSE(r.expires);
    const Session s = new_session({"1", "octo"}, r, 1'700'000'000, 86400);
    EXPECT_EQ(s.access_expires_at, s.expires_at);
    // With a refresh token (or an expires_in) the RFC's default stays.
    const auto with_refresh = parse_token_response(200, R"({"access_token":"a","refresh_token":"r"})");
    EXPECT_TRUE(with_refresh.expires);
    EXPECT_EQ(new_session({"1", "x"}, with_refresh, 1'700'000'000, 86400).access_expires_at, 1'700'000'000 + 3600);
}

TEST(ProfileClaims, ParseOverABaseKeepsTheFieldsNotGiven) {
    const auto claims = parse_profile_claims({"name=login"}, ProfileClaims{"", ""});
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->id, "");
    EXPECT_EQ(claims->name, "login");
}

TEST(Profile, KakaoNumericIdAndNestedHangulNickname) {
    const ProfileClaims kakao{"id", "kakao_account.profile.nickname"};
    const auto raw = parse_profile(
        200,
        "{\"id\":3141592653,\"kakao_account\":{\"profile\":{\"nickname\":\"\xED\x99\x8D\xEA\xB8\xB8\xEB\x8F\x99\"}}}",
        kakao);
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->id, "3141592653");
    EXPECT_EQ(raw->display_name, "\xED\x99\x8D\xEA\xB8\xB8\xEB\x8F\x99");  // 홍길동
    const auto escaped =
        parse_profile(200, R"({"id":3141592653,"kakao_account":{"profile":{"nickname":"\ud64d\uae38\ub3d9"}}})", kakao);
    ASSERT_TRUE(escaped);
    EXPECT_EQ(escaped->display_name, raw->display_name);
}
