#include "spotauth/authorization.hpp"

#include <gtest/gtest.h>

using namespace spotauth;

namespace {

Session user(const std::string& id, const std::string& product) {
    Session s;
    s.user_id = id;
    s.product = product;
    return s;
}

}  // namespace

TEST(UserAllowlist, OneIdPerLineWithCommentsAndBlankLines) {
    const auto list = UserAllowlist::parse(
        "# the team\n"
        "alice\n"
        "\n"
        "  bob   # on call\r\n"
        "\t\n"
        "carol.k#2\n"
        "   # indented comment\n"
        "dave");
    ASSERT_TRUE(list) << list.error();
    EXPECT_EQ(list->size(), 4u);
    EXPECT_TRUE(list->allows("alice"));
    EXPECT_TRUE(list->allows("bob"));
    EXPECT_TRUE(list->allows("carol.k#2"));  // # inside an id is part of it
    EXPECT_TRUE(list->allows("dave"));       // no final newline
    EXPECT_FALSE(list->allows("Alice"));     // exact, case included
    EXPECT_FALSE(list->allows(""));
    EXPECT_FALSE(list->allows("bob "));
}

TEST(UserAllowlist, AnEmptyFileAllowsNobody) {
    for (const char* text : {"", "\n\n", "# nobody yet\n"}) {
        const auto list = UserAllowlist::parse(text);
        ASSERT_TRUE(list) << text;
        EXPECT_EQ(list->size(), 0u);
        EXPECT_FALSE(list->allows("alice"));
    }
}

TEST(UserAllowlist, ErrorsNameTheLine) {
    const auto two = UserAllowlist::parse("alice\nbob carol\n");
    ASSERT_FALSE(two);
    EXPECT_NE(two.error().find("line 2"), std::string::npos) << two.error();
    const auto control = UserAllowlist::parse("alice\n\nev\x01il\n");
    ASSERT_FALSE(control);
    EXPECT_NE(control.error().find("line 3"), std::string::npos) << control.error();
    EXPECT_FALSE(UserAllowlist::parse(std::string(256, 'u')));
    EXPECT_FALSE(UserAllowlist::parse("\xff\xfe\n"));
    EXPECT_TRUE(UserAllowlist::parse(std::string(255, 'u')));
}

TEST(Authorize, NoRulesAllowEveryone) { EXPECT_EQ(authorize({}, user("anyone", "")), Authorization::allowed); }

TEST(Authorize, TheAllowlist) {
    const auto list = *UserAllowlist::parse("alice\n");
    const AccessRules rules{&list, nullptr};
    EXPECT_EQ(authorize(rules, user("alice", "")), Authorization::allowed);
    EXPECT_EQ(authorize(rules, user("bob", "premium")), Authorization::user_not_listed);
}

TEST(Authorize, TheProductRule) {
    const std::vector<std::string> premium{"premium"};
    const AccessRules rules{nullptr, &premium};
    EXPECT_EQ(authorize(rules, user("alice", "premium")), Authorization::allowed);
    EXPECT_EQ(authorize(rules, user("bob", "free")), Authorization::product_not_allowed);
    EXPECT_EQ(authorize(rules, user("bob", "Premium")), Authorization::product_not_allowed);
    EXPECT_EQ(authorize(rules, user("old", "")), Authorization::product_unknown);
    const std::vector<std::string> either{"premium", "open"};
    EXPECT_EQ(authorize({nullptr, &either}, user("carol", "open")), Authorization::allowed);
}

TEST(Authorize, BothRulesMustAllow) {
    const auto list = *UserAllowlist::parse("alice\nbob\n");
    const std::vector<std::string> premium{"premium"};
    const AccessRules rules{&list, &premium};
    EXPECT_EQ(authorize(rules, user("alice", "premium")), Authorization::allowed);
    EXPECT_EQ(authorize(rules, user("bob", "free")), Authorization::product_not_allowed);
    EXPECT_EQ(authorize(rules, user("carol", "premium")), Authorization::user_not_listed);
    EXPECT_EQ(authorize(rules, user("carol", "")), Authorization::user_not_listed);
}

TEST(ScopesInclude, WholeWordsOnly) {
    EXPECT_TRUE(scopes_include("user-read-email user-read-private", kProductScope));
    EXPECT_TRUE(scopes_include("user-read-private", kProductScope));
    EXPECT_FALSE(scopes_include("user-read-email", kProductScope));
    EXPECT_FALSE(scopes_include("user-read-private-x", kProductScope));
    EXPECT_FALSE(scopes_include("", kProductScope));
}
