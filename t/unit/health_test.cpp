#include "spotauth/health.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace spotauth;
using nlohmann::json;

TEST(Health, AllChecksPassingIsOk) {
    const HealthReport r = health_report({true, true});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body), json::parse(R"({"status":"ok","checks":{"keys":"ok","zone":"ok"}})"));
}

TEST(Health, MissingKeysMakeItUnavailable) {
    const HealthReport r = health_report({false, true});
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(json::parse(r.body), json::parse(R"({"status":"unavailable","reason":"keys_not_loaded",
                                                   "checks":{"keys":"unavailable","zone":"ok"}})"));
}

TEST(Health, ADeadZoneMakesItUnavailable) {
    const HealthReport r = health_report({true, false});
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(json::parse(r.body), json::parse(R"({"status":"unavailable","reason":"zone_unavailable",
                                                   "checks":{"keys":"ok","zone":"unavailable"}})"));
}
