#include "spotauth/version.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

using namespace spotauth;

namespace {

std::string version_file() {
    std::ifstream in(std::string(SPOTAUTH_SOURCE_DIR) + "/VERSION");
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

// The one place: the VERSION file (./build.sh appends the commit).
TEST(Version, ComesFromTheVersionFile) {
    ASSERT_FALSE(version_file().empty());
    const std::string v(version());
    EXPECT_EQ(v.rfind(version_file(), 0), 0u) << v;
    EXPECT_TRUE(v == version_file() || v[version_file().size()] == '+') << v;
}

TEST(Version, BuildInfoMetricNamesVersionAndNginx) {
    const std::string text = build_info_metric("1.22.1");
    EXPECT_NE(text.find("# TYPE spotauth_build_info gauge\n"), std::string::npos);
    EXPECT_NE(text.find("spotauth_build_info{version=\"" + std::string(version()) + "\",nginx=\"1.22.1\"} 1\n"),
              std::string::npos)
        << text;
}

TEST(Version, BuildInfoLabelsAreEscaped) {
    const std::string text = build_info_metric("1.2\"\\\nx");
    EXPECT_NE(text.find(",nginx=\"1.2\\\"\\\\\\nx\"} 1\n"), std::string::npos) << text;
}
