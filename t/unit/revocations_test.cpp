// Revocations and the not-before floor that stands in for those a full
// store lets go.
#include "spotauth/revocations.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

Session session_started_at(UnixTime start) {
    Session s;
    s.sid = "sid-1";
    s.issued_at = start;
    s.expires_at = start + 86400;
    return s;
}

constexpr UnixTime kNow = 1'700'050'000;

TEST(Revocations, ASessionWithoutRevocationOrFloorIsServed) {
    EXPECT_FALSE(session_refused(session_started_at(1'700'000'000), 0, std::nullopt, kNow));
}

TEST(Revocations, ARevocationInForceRefusesItsSession) {
    EXPECT_TRUE(session_refused(session_started_at(1'700'000'000), 0, kNow + 1, kNow));
    EXPECT_FALSE(session_refused(session_started_at(1'700'000'000), 0, kNow, kNow));
}

TEST(Revocations, TheFloorRefusesEverySessionThatBeganBeforeIt) {
    const UnixTime floor = floor_covering(0, 1'700'000'000);
    EXPECT_TRUE(session_refused(session_started_at(1'700'000'000), floor, std::nullopt, kNow));
    EXPECT_TRUE(session_refused(session_started_at(1'600'000'000), floor, std::nullopt, kNow));
    EXPECT_FALSE(session_refused(session_started_at(1'700'000'001), floor, std::nullopt, kNow));
}

TEST(Revocations, TheFloorNeverGoesDown) {
    EXPECT_EQ(floor_covering(1'700'000'100, 1'700'000'000), 1'700'000'100);
    EXPECT_EQ(floor_covering(1'700'000'000, 1'700'000'100), 1'700'000'101);
}

TEST(Revocations, ASessionWithoutAnIdIsNeverRefused) {
    Session old = session_started_at(1'000);
    old.sid.clear();
    EXPECT_FALSE(session_refused(old, 1'700'000'000, std::nullopt, kNow));
}

TEST(Revocations, ASessionOfUnknownStartIsBelowAnyFloor) {
    EXPECT_TRUE(session_refused(session_started_at(0), 1, std::nullopt, kNow));
}

TEST(Revocations, ARevocationIsKeptUntilItsSessionEndsOrTheFloorCoversIt) {
    EXPECT_TRUE(revocation_needed(0, 1'700'000'000, kNow + 1, kNow));
    EXPECT_FALSE(revocation_needed(0, 1'700'000'000, kNow, kNow));
    EXPECT_FALSE(revocation_needed(1'700'000'001, 1'700'000'000, kNow + 1, kNow));
    EXPECT_TRUE(revocation_needed(1'700'000'000, 1'700'000'000, kNow + 1, kNow));
}

}  // namespace
