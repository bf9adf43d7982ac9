#include "spotauth/page.hpp"

#include "spotauth/url.hpp"

#include <array>
#include <utility>

namespace spotauth {
namespace {

constexpr std::string_view kOpen = "{{";
constexpr std::string_view kClose = "}}";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::size_t line_of(std::string_view text, std::size_t offset) {
    std::size_t line = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        line += text[i] == '\n' ? 1 : 0;
    }
    return line;
}

// `url` with return_to=`return_to` added (nothing for the site's root).
std::string with_return_to(std::string_view url, std::string_view return_to) {
    return return_to.empty() || return_to == "/" ? std::string(url)
                                                 : append_query(url, "return_to=" + percent_encode(return_to));
}

// A few words above the description.
std::string page_title(Failure failure, std::string_view provider) {
    switch (failure) {
        case Failure::not_signed_in: return "Sign in first";
        case Failure::session_invalid:
        case Failure::token_rejected: return "Sign in again";
        case Failure::session_expired: return "Your session has ended";
        case Failure::session_revoked: return "You were signed out";
        case Failure::refresh_refused: return "Your " + std::string(provider) + " session ended";
        case Failure::provider_unavailable: return std::string(provider) + " is not answering";
        case Failure::provider_misconfigured: return "Sign-in is broken here";
        case Failure::state_mismatch:
        case Failure::state_used: return "This sign-in link has expired";
        case Failure::consent_declined: return "Not connected";
        case Failure::cross_site: return "Not allowed";
        case Failure::exchanges_limited: return "Too many sign-ins";
        case Failure::forbidden: return "No access";
        case Failure::method_not_allowed: return "Not here";
        case Failure::code_missing:
        case Failure::provider_refused_login:
        case Failure::code_exchange_failed:
        case Failure::profile_unavailable:
        case Failure::session_too_large: break;
    }
    return "Sign-in problem";
}

// The built-in page: conf/spotauth-error.html, compiled in (CMakeLists.txt):
// the demo site's colours and type, no external assets, one column that
// fits a 320 px wide phone.
constexpr std::string_view kBuiltin =
#include "builtin_page.inc"
    ;

}  // namespace

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

Expected<PageTemplate> PageTemplate::parse(std::string_view text) {
    using Result = Expected<PageTemplate>;
    if (text.size() > kMaxPageTemplateBytes) {
        return Result::failure("is " + std::to_string(text.size()) + " bytes, more than the " +
                               std::to_string(kMaxPageTemplateBytes) + " allowed");
    }
    static constexpr std::array<std::pair<std::string_view, Field>, 8> kFields{{
        {"status", Field::status},
        {"code", Field::code},
        {"title", Field::title},
        {"description", Field::description},
        {"login_url", Field::login_url},
        {"login_label", Field::login_label},
        {"home_url", Field::home_url},
        {"provider", Field::provider},
    }};
    PageTemplate page;
    std::size_t at = 0;
    for (;;) {
        const std::size_t open = text.find(kOpen, at);
        if (open == std::string_view::npos) {
            page.parts_.push_back({std::string(text.substr(at)), Field::none});
            return page;
        }
        const std::size_t close = text.find(kClose, open + kOpen.size());
        if (close == std::string_view::npos) {
            return Result::failure("has a \"{{\" without \"}}\" on line " + std::to_string(line_of(text, open)));
        }
        const std::string_view name = trim(text.substr(open + kOpen.size(), close - open - kOpen.size()));
        Field field = Field::none;
        for (const auto& [known, value] : kFields) {
            field = name == known ? value : field;
        }
        if (field == Field::none) {
            std::string known_names;
            for (const auto& known : kFields) {
                known_names += (known_names.empty() ? "{{" : ", {{") + std::string(known.first) + "}}";
            }
            return Result::failure("has an unknown placeholder \"{{" + std::string(name.substr(0, 40)) +
                                   "}}\" on line " + std::to_string(line_of(text, open)) + "; the known ones are " +
                                   known_names);
        }
        page.parts_.push_back({std::string(text.substr(at, open - at)), field});
        at = close + kClose.size();
    }
}

const PageTemplate& PageTemplate::builtin() {
    static const PageTemplate page = *parse(kBuiltin);
    return page;
}

std::string_view builtin_page_template() { return kBuiltin; }

std::string PageTemplate::render(const PageFields& fields) const {
    std::string out;
    for (const Part& part : parts_) {
        out += part.literal;
        switch (part.field) {
            case Field::none: break;
            case Field::status: out += std::to_string(fields.status); break;
            case Field::code: out += escape_html(fields.code); break;
            case Field::title: out += escape_html(fields.title); break;
            case Field::description: out += escape_html(fields.description); break;
            case Field::login_url: out += escape_html(fields.login_url); break;
            case Field::login_label: out += escape_html(fields.login_label); break;
            case Field::home_url: out += escape_html(fields.home_url); break;
            case Field::provider: out += escape_html(fields.provider); break;
        }
    }
    return out;
}

std::string switch_account_url(std::string_view login_uri, std::string_view return_to) {
    return with_return_to(append_query(login_uri, std::string(kSwitchAccountParameter) + "=1"), return_to);
}

PageFields error_page_fields(Failure failure, std::string_view login_uri, std::string_view return_to,
                             std::string_view provider) {
    const ErrorReply e = error_reply(failure, provider);
    PageFields page;
    page.status = e.status;
    page.code = std::string(e.code);
    page.title = page_title(failure, provider);
    page.description = e.description;
    if (failure == Failure::forbidden) {
        page.login_url = switch_account_url(login_uri, return_to);
        page.login_label = "Sign in with another account";
    } else {
        page.login_url = with_return_to(login_uri, return_to);
        page.login_label = "Sign in with " + std::string(provider);
    }
    page.home_url = "/";
    page.provider = std::string(provider);
    return page;
}

std::string_view notice_code(Notice notice) {
    switch (notice) {
        case Notice::logged_out: return "logged_out";
        case Notice::session_expired: return "session_expired";
        case Notice::session_revoked: return "session_revoked";
        case Notice::refresh_failed: return "refresh_failed";
    }
    return "logged_out";
}

std::string without_notice(std::string_view path) {
    const std::size_t hash = path.find('#');
    const std::string_view fragment = hash == std::string_view::npos ? std::string_view() : path.substr(hash);
    path = path.substr(0, hash);
    const std::size_t question = path.find('?');
    std::string kept(path.substr(0, question));
    std::string_view query = question == std::string_view::npos ? std::string_view() : path.substr(question + 1);
    char separator = '?';
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        // Compared as a browser's URLSearchParams reads it: spotauth%5Fnotice too.
        const auto name = percent_decode(pair.substr(0, pair.find('=')), true);
        if (pair.empty() || name == kNoticeParameter) {
            continue;
        }
        kept += separator;
        kept += pair;
        separator = '&';
    }
    return kept.append(fragment);
}

std::string login_return_to(std::string_view raw_value) { return without_notice(safe_return_to(raw_value)); }

std::string with_notice(std::string_view path, Notice notice) {
    const std::string kept = without_notice(path);
    const std::size_t hash = kept.find('#');
    const std::string_view fragment =
        hash == std::string::npos ? std::string_view() : std::string_view(kept).substr(hash);
    const std::string query = std::string(kNoticeParameter) + "=" + std::string(notice_code(notice));
    return append_query(std::string_view(kept).substr(0, hash), query) + std::string(fragment);
}

}  // namespace spotauth
