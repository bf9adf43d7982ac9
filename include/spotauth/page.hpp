// The module's HTML pages. Every page a person sees from the module (a
// sign-in that failed, a page they may not see, a session that ended)
// comes from one template: the built-in one, styled like the demo site, or
// the operator's (`spotauth_error_template`). A template is parsed once, at
// configuration time, into literal text and placeholders; each answer fills
// the placeholders with HTML-escaped values.
#pragma once

#include "spotauth/errors.hpp"
#include "spotauth/expected.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spotauth {

// Larger template files are refused at configuration time.
inline constexpr std::size_t kMaxPageTemplateBytes = 64 * 1024;

// What one page says; every value is escaped when it is filled in.
struct PageFields {
    int status = 0;
    std::string code;         // the error table's stable code
    std::string title;        // a few words for a person
    std::string description;  // a sentence for a person
    std::string login_url;    // sign in (again), back to the page the user was on
    std::string login_label;  // the words of that link
    std::string home_url;     // the site
    std::string provider;     // who users sign in with ("Kakao")
};

class PageTemplate {
public:
    // `{{status}}`, `{{code}}`, `{{title}}`, `{{description}}`,
    // `{{login_url}}`, `{{login_label}}`, `{{home_url}}` and `{{provider}}` (spaces inside the braces are
    // allowed); anything else between `{{` and `}}`, an unclosed `{{` or a
    // text over kMaxPageTemplateBytes is an error that says where.
    static Expected<PageTemplate> parse(std::string_view text);

    // The built-in page (parsed once).
    static const PageTemplate& builtin();

    std::string render(const PageFields& fields) const;

private:
    enum class Field { none, status, code, title, description, login_url, login_label, home_url, provider };
    struct Part {
        std::string literal;  // text before the field
        Field field = Field::none;
    };
    std::vector<Part> parts_;
};

// The text of the built-in template (also shipped as conf/spotauth-error.html).
std::string_view builtin_page_template();

// The page for an answer of the error table. `login_uri` is the server's
// login location; `return_to` the same-site path to come back to after
// signing in (empty or "/": the login's default, the site's root);
// `provider` is the provider's name for people. The "No access" page
// (forbidden) offers "Sign in with another account" (switch_account_url):
// signing the same account in again would not help.
PageFields error_page_fields(Failure failure, std::string_view login_uri, std::string_view return_to,
                             std::string_view provider = kDefaultProviderName);

// The login location's query parameter that asks the provider which account
// to use (`/auth/login?switch=1`; spotauth::account_choice).
inline constexpr std::string_view kSwitchAccountParameter = "switch";

// The login location with `switch=1` (kSwitchAccountParameter): the
// provider asks which account to use instead of signing the current one in
// again. `return_to` as for error_page_fields.
std::string switch_account_url(std::string_view login_uri, std::string_view return_to);

// Escapes & < > " ' for HTML text and attribute values.
std::string escape_html(std::string_view text);

// Why the module sent a browser back to the site, for the page to show:
// the value of the `spotauth_notice` query parameter (a stable contract,
// documented in docs/frontend.md; never anything about the user).
enum class Notice { logged_out, session_expired, session_revoked, refresh_failed };

inline constexpr std::string_view kNoticeParameter = "spotauth_notice";

std::string_view notice_code(Notice notice);

// `path` (a same-site path, as safe_return_to gives) with
// `spotauth_notice=<code>` added to its query, replacing any notice there.
std::string with_notice(std::string_view path, Notice notice);

// `path` without any `spotauth_notice` parameter (however its name is
// percent-encoded): a page left twice shows one reason.
std::string without_notice(std::string_view path);

// Where a login sends the browser back: the `return_to` value as a
// same-site path (safe_return_to), without a notice, which told why the
// user was signed out and is stale once they sign in again.
std::string login_return_to(std::string_view raw_value);

}  // namespace spotauth
