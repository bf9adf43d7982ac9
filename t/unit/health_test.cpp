#include "spotauth/health.hpp"
#include "spotauth/version.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace spotauth;
using nlohmann::json;

namespace {

// Every answer names the build (spotauth/version.hpp).
json with_version(const char* text) {
    json body = json::parse(text);
    body["version"] = std::string(version());
    return body;
}

}  // namespace

TEST(Health, AllChecksPassingIsOk) {
    const HealthReport r = health_report({true, true, std::nullopt});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body), with_version(R"({"status":"ok","checks":{"keys":"ok","zone":"ok"}})"));
}

TEST(Health, MissingKeysMakeItUnavailable) {
    const HealthReport r = health_report({false, true, std::nullopt});
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(json::parse(r.body), with_version(R"({"status":"unavailable","reason":"keys_not_loaded",
                                                   "checks":{"keys":"unavailable","zone":"ok"}})"));
}

TEST(Health, ADeadZoneMakesItUnavailable) {
    const HealthReport r = health_report({true, false, std::nullopt});
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(json::parse(r.body), with_version(R"({"status":"unavailable","reason":"zone_unavailable",
                                                   "checks":{"keys":"ok","zone":"unavailable"}})"));
}

TEST(Health, RedisDownIsDegradedNotUnavailable) {
    const HealthReport down = health_report({true, true, false});
    EXPECT_EQ(down.status, 200);
    EXPECT_NE(down.body.find("\"status\":\"degraded\""), std::string::npos);
    EXPECT_NE(down.body.find("\"redis\":\"unavailable\""), std::string::npos);
    const HealthReport up = health_report({true, true, true});
    EXPECT_NE(up.body.find("\"status\":\"ok\""), std::string::npos);
    EXPECT_NE(up.body.find("\"redis\":\"ok\""), std::string::npos);
    EXPECT_EQ(health_report({true, true, std::nullopt}).body.find("redis"), std::string::npos);
}

TEST(Health, RedisRefusingCommandsIsDegraded) {
    HealthChecks checks{true, true, true};
    checks.redis_refusing = true;
    const auto refusing = health_report(checks);
    EXPECT_EQ(refusing.status, 200);
    EXPECT_NE(refusing.body.find("\"status\":\"degraded\""), std::string::npos);
    EXPECT_NE(refusing.body.find("\"redis\":\"refusing\""), std::string::npos);
    checks.redis = false;  // down says so, whatever it answered before
    EXPECT_NE(health_report(checks).body.find("\"redis\":\"unavailable\""), std::string::npos);
}
