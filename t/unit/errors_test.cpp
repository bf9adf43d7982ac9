// The error table (src/errors.cpp): each failure's documented code and
// status, which failures clear the session, and the provider's refusals.
#include "spotauth/errors.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace spotauth;

namespace {

constexpr Failure kAll[] = {
    Failure::not_signed_in,
    Failure::session_invalid,
    Failure::session_expired,
    Failure::session_revoked,
    Failure::refresh_refused,
    Failure::token_rejected,
    Failure::provider_unavailable,
    Failure::provider_misconfigured,
    Failure::state_mismatch,
    Failure::state_used,
    Failure::code_missing,
    Failure::consent_declined,
    Failure::provider_refused_login,
    Failure::code_exchange_failed,
    Failure::profile_unavailable,
    Failure::session_too_large,
    Failure::cross_site,
    Failure::exchanges_limited,
    Failure::forbidden,
    Failure::method_not_allowed,
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
    EXPECT_EQ(cleared,
              (std::set<std::string>{"not_authenticated", "session_expired", "session_revoked", "refresh_failed"}));
    EXPECT_FALSE(error_reply(Failure::not_signed_in).ends_session);         // nothing to clear
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
