// Who may go on once signed in: `spotauth_allow_users` (a file of user ids)
// and `spotauth_require_product` (the Spotify subscription, as /v1/me
// reported it at login). The glue reads the file at configuration time and
// asks authorize() for each signed-in request.
#pragma once

#include "spotauth/expected.hpp"
#include "spotauth/session.hpp"

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth {

// The scope without which Spotify's /v1/me has no `product` (nor `country`).
inline constexpr std::string_view kProductScope = "user-read-private";

// A set of user ids, exact (case-sensitive) matches.
class UserAllowlist {
public:
    // The file's text: one id per line; blank lines and `#` comments (a
    // line starting with `#`, or `#` after the id and a space) ignored.
    // An error names the line: two words on a line, or an id that is not
    // clean provider text (control characters, over 255 bytes).
    static Expected<UserAllowlist> parse(std::string_view text);

    bool allows(std::string_view user_id) const { return ids_.find(user_id) != ids_.end(); }
    std::size_t size() const { return ids_.size(); }

private:
    std::set<std::string, std::less<>> ids_;
};

// A location's rules; null members do not restrict.
struct AccessRules {
    const UserAllowlist* users = nullptr;
    const std::vector<std::string>* products = nullptr;  // any one of them
};

enum class Authorization {
    allowed,
    user_not_listed,      // not in spotauth_allow_users
    product_not_allowed,  // a product spotauth_require_product does not name
    product_unknown,      // a product is required but the session does not say which
                          // (sealed before it was kept, or /v1/me did not tell)
};

Authorization authorize(const AccessRules& rules, const Session& session);

// For logs: "allowed", "not in spotauth_allow_users", ...
const char* authorization_name(Authorization authorization);

// True when the space-separated `scopes` include `scope`.
bool scopes_include(std::string_view scopes, std::string_view scope);

}  // namespace spotauth
