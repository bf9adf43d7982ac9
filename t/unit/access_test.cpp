// decide_access: what a protected location does with a request, per protect
// mode, cookie status, authorization and replay state.
#include "spotauth/access.hpp"
#include "spotauth/errors.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

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
