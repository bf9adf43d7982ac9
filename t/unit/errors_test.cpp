#include "spotauth/access.hpp"
#include "spotauth/errors.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace spotauth;

namespace {

constexpr Failure kAll[] = {
    Failure::not_signed_in,        Failure::session_invalid,       Failure::session_expired,
    Failure::session_revoked,
    Failure::refresh_refused,      Failure::token_rejected,        Failure::provider_unavailable,
    Failure::provider_misconfigured, Failure::state_mismatch,      Failure::state_used,
    Failure::code_missing,         Failure::consent_declined,      Failure::provider_refused_login,
    Failure::code_exchange_failed, Failure::profile_unavailable,   Failure::session_too_large,
    Failure::cross_site,           Failure::exchanges_limited,
    Failure::forbidden,            Failure::method_not_allowed,
};

}  // namespace

// The documented contract (docs/operations.md, "Error codes"): code and status per failure.
TEST(ErrorTable, CodesAndStatusesAreTheDocumentedOnes) {
    const std::pair<Failure, std::pair<int, std::string>> expected[] = {
        {Failure::not_signed_in, {401, "not_authenticated"}},
        {Failure::session_invalid, {401, "not_authenticated"}},
        {Failure::session_expired, {401, "session_expired"}},
        {Failure::session_revoked, {401, "session_revoked"}},
        {Failure::refresh_refused, {401, "refresh_failed"}},
        {Failure::token_rejected, {401, "token_rejected"}},
        {Failure::provider_unavailable, {503, "token_endpoint_unavailable"}},
        {Failure::provider_misconfigured, {502, "token_endpoint_misconfigured"}},
        {Failure::state_mismatch, {400, "invalid_state"}},
        {Failure::state_used, {400, "invalid_state"}},
        {Failure::code_missing, {400, "invalid_request"}},
        {Failure::consent_declined, {403, "access_denied"}},
        {Failure::provider_refused_login, {502, "provider_error"}},
        {Failure::code_exchange_failed, {502, "token_exchange_failed"}},
        {Failure::profile_unavailable, {502, "profile_unavailable"}},
        {Failure::session_too_large, {502, "session_too_large"}},
        {Failure::cross_site, {403, "cross_site_request"}},
        {Failure::exchanges_limited, {429, "too_many_requests"}},
        {Failure::forbidden, {403, "forbidden"}},
        {Failure::method_not_allowed, {405, "method_not_allowed"}},
    };
    for (const auto& [failure, reply] : expected) {
        const ErrorReply e = error_reply(failure);
        EXPECT_EQ(e.status, reply.first) << reply.second;
        EXPECT_EQ(e.code, reply.second);
        EXPECT_FALSE(e.description.empty());
    }
    EXPECT_EQ(std::size(expected), std::size(kAll));
}

TEST(ErrorTable, OnlyUnusableSessionsAreCleared) {
    std::set<std::string> cleared;
    for (const Failure f : kAll) {
        if (error_reply(f).ends_session) {
            cleared.insert(std::string(error_reply(f).code));
        }
    }
    EXPECT_EQ(cleared, (std::set<std::string>{"not_authenticated", "session_expired", "session_revoked",
                                              "refresh_failed"}));
    EXPECT_FALSE(error_reply(Failure::not_signed_in).ends_session);  // nothing to clear
    EXPECT_FALSE(error_reply(Failure::provider_unavailable).ends_session);  // a flaky endpoint logs nobody out
}

TEST(ErrorTable, RefreshOutcomes) {
    EXPECT_EQ(refresh_failure(TokenOutcome::permanent), Failure::refresh_refused);
    EXPECT_EQ(refresh_failure(TokenOutcome::misconfigured), Failure::provider_misconfigured);
    EXPECT_EQ(refresh_failure(TokenOutcome::transient), Failure::provider_unavailable);
}

TEST(ErrorTable, ProviderRefusals) {
    EXPECT_EQ(provider_refusal("access_denied"), Failure::consent_declined);
    EXPECT_EQ(provider_refusal("server_error"), Failure::provider_refused_login);
    EXPECT_EQ(provider_refusal("ACCESS_DENIED"), Failure::provider_refused_login);
}

TEST(DecideAccess, ApiLocations) {
    EXPECT_EQ(decide_access({ProtectMode::on, CookieStatus::valid, false}).action, AccessAction::proxy);
    EXPECT_EQ(decide_access({ProtectMode::on, CookieStatus::valid, true}).action, AccessAction::refresh);
    const auto absent = decide_access({ProtectMode::on, CookieStatus::absent, false});
    EXPECT_EQ(absent.action, AccessAction::deny);
    EXPECT_EQ(absent.failure, Failure::not_signed_in);
    EXPECT_EQ(decide_access({ProtectMode::on, CookieStatus::invalid, false}).failure, Failure::session_invalid);
    EXPECT_EQ(decide_access({ProtectMode::on, CookieStatus::expired, true}).failure, Failure::session_expired);
}

TEST(DecideAccess, PagesNeverRefresh) {
    EXPECT_EQ(decide_access({ProtectMode::redirect, CookieStatus::valid, true}).action, AccessAction::serve_page);
    const auto absent = decide_access({ProtectMode::redirect, CookieStatus::absent, false});
    EXPECT_EQ(absent.action, AccessAction::login_redirect);
    EXPECT_FALSE(absent.clear_cookie);
    const auto bad = decide_access({ProtectMode::redirect, CookieStatus::invalid, false});
    EXPECT_EQ(bad.action, AccessAction::login_redirect);
    EXPECT_TRUE(bad.clear_cookie);
}

TEST(DecideAccess, PagesSayThatASessionEnded) {
    const auto expired = decide_access({ProtectMode::redirect, CookieStatus::expired, false});
    EXPECT_EQ(expired.action, AccessAction::deny);
    EXPECT_EQ(expired.failure, Failure::session_expired);
    const auto revoked = decide_access({ProtectMode::redirect, CookieStatus::revoked, false});
    EXPECT_EQ(revoked.action, AccessAction::deny);
    EXPECT_EQ(revoked.failure, Failure::session_revoked);
    EXPECT_TRUE(error_reply(Failure::session_expired).ends_session);
    EXPECT_TRUE(error_reply(Failure::session_revoked).offers_login);
}

TEST(DecideAccess, ReplayOnceAndOnlyWithAReplayableBody) {
    EXPECT_EQ(decide_access({ProtectMode::retry, CookieStatus::valid, false, false, true}).action,
              AccessAction::force_refresh);
    const auto twice = decide_access({ProtectMode::retry, CookieStatus::valid, false, true, true});
    EXPECT_EQ(twice.action, AccessAction::deny);
    EXPECT_EQ(twice.failure, Failure::token_rejected);
    EXPECT_EQ(decide_access({ProtectMode::retry, CookieStatus::valid, false, false, false}).failure,
              Failure::token_rejected);
    EXPECT_EQ(decide_access({ProtectMode::retry, CookieStatus::absent, false}).failure, Failure::not_signed_in);
}

TEST(DecideAccess, ARefusedUserIsForbiddenEverywhereWithoutARefresh) {
    for (const auto refusal : {Authorization::user_not_listed, Authorization::product_not_allowed}) {
        for (const auto mode : {ProtectMode::on, ProtectMode::redirect, ProtectMode::retry}) {
            AccessFacts facts{mode, CookieStatus::valid};
            facts.authorization = refusal;
            facts.needs_refresh = true;
            const auto d = decide_access(facts);
            EXPECT_EQ(d.action, AccessAction::deny);
            EXPECT_EQ(d.failure, Failure::forbidden);
        }
    }
    EXPECT_FALSE(error_reply(Failure::forbidden).ends_session);
    EXPECT_TRUE(error_reply(Failure::forbidden).offers_login);
}

TEST(DecideAccess, WithoutASessionTheRulesDoNotMatter) {
    AccessFacts api{ProtectMode::on, CookieStatus::absent};
    api.authorization = Authorization::user_not_listed;
    EXPECT_EQ(decide_access(api).failure, Failure::not_signed_in);
    AccessFacts page{ProtectMode::redirect, CookieStatus::invalid};
    page.authorization = Authorization::user_not_listed;
    EXPECT_EQ(decide_access(page).action, AccessAction::login_redirect);
}

TEST(DecideAccess, AnUnknownProductSignsInAgainKeepingTheCookie) {
    AccessFacts api{ProtectMode::on, CookieStatus::valid};
    api.authorization = Authorization::product_unknown;
    const auto denied = decide_access(api);
    EXPECT_EQ(denied.action, AccessAction::deny);
    EXPECT_EQ(denied.failure, Failure::not_signed_in);
    EXPECT_FALSE(error_reply(denied.failure).ends_session);
    AccessFacts page{ProtectMode::redirect, CookieStatus::valid};
    page.authorization = Authorization::product_unknown;
    const auto redirect = decide_access(page);
    EXPECT_EQ(redirect.action, AccessAction::login_redirect);
    EXPECT_FALSE(redirect.clear_cookie);
}
