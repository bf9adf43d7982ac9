#include "spotauth/authorization.hpp"

#include "spotauth/provider_text.hpp"

#include <algorithm>

namespace spotauth {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_blank(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

// The line without its comment: from a `#` at its start or after a blank.
std::string_view without_comment(std::string_view line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '#' && (i == 0 || is_blank(line[i - 1]))) {
            return line.substr(0, i);
        }
    }
    return line;
}

bool product_allowed(const std::vector<std::string>& products, std::string_view product) {
    return std::find(products.begin(), products.end(), product) != products.end();
}

}  // namespace

Expected<UserAllowlist> UserAllowlist::parse(std::string_view text) {
    UserAllowlist list;
    std::size_t number = 0;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        const std::string_view line = trimmed(without_comment(text.substr(0, end)));
        text.remove_prefix(std::min(end + 1, text.size()));
        ++number;
        if (line.empty()) {
            continue;
        }
        const std::string where = "line " + std::to_string(number) + ": ";
        if (std::any_of(line.begin(), line.end(), is_blank)) {
            return Expected<UserAllowlist>::failure(where + "one user id per line (comments start with #)");
        }
        const auto id = exact_user_id(line);
        if (!id || *id != line) {
            return Expected<UserAllowlist>::failure(where +
                                                    "not a user id (control characters, invalid UTF-8 "
                                                    "or over 255 bytes)");
        }
        list.ids_.insert(*id);
    }
    return list;
}

Authorization authorize(const AccessRules& rules, const Session& session) {
    if (rules.users != nullptr && !rules.users->allows(session.user_id)) {
        return Authorization::user_not_listed;
    }
    if (rules.products == nullptr) {
        return Authorization::allowed;
    }
    if (session.product.empty()) {
        return Authorization::product_unknown;
    }
    return product_allowed(*rules.products, session.product) ? Authorization::allowed
                                                             : Authorization::product_not_allowed;
}

const char* authorization_name(Authorization authorization) {
    switch (authorization) {
        case Authorization::allowed: return "allowed";
        case Authorization::user_not_listed: return "not in spotauth_allow_users";
        case Authorization::product_not_allowed: return "product not in spotauth_require_product";
        case Authorization::product_unknown: return "product unknown";
    }
    return "unknown";
}

bool scopes_include(std::string_view scopes, std::string_view scope) {
    while (!scopes.empty()) {
        const std::size_t end = std::min(scopes.find(' '), scopes.size());
        if (scopes.substr(0, end) == scope) {
            return true;
        }
        scopes.remove_prefix(std::min(end + 1, scopes.size()));
    }
    return false;
}

}  // namespace spotauth
