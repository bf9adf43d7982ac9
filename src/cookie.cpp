#include "spotauth/cookie.hpp"

#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"

#include <algorithm>

namespace spotauth {
namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string_view cookie_name(std::string_view pair) { return trim(pair.substr(0, pair.find('='))); }

// Calls `visit(pair)` for each non-empty pair of `header`, in order, until
// it returns false.
template <typename Visit>
void for_each_pair(std::string_view header, Visit&& visit) {
    std::size_t start = 0;
    while (start <= header.size()) {
        const std::size_t end = std::min(header.find(';', start), header.size());
        const std::string_view pair = trim(header.substr(start, end - start));
        if (!pair.empty() && !visit(pair)) {
            return;
        }
        start = end + 1;
    }
}

}  // namespace

bool CookieNames::is_login(std::string_view name) const { return name.substr(0, login_prefix.size()) == login_prefix; }

bool CookieNames::is_ours(std::string_view name) const { return name == session || is_login(name); }

CookieNames cookie_names(bool secure) {
    const std::string prefix = secure ? "__Host-" : "";
    return {prefix + "spotauth", prefix + "spotauth_login"};
}

std::string login_cookie_name(const CookieNames& names, std::string_view state) {
    constexpr std::size_t kHashChars = 16;
    return names.login_prefix + "_" + base64url_encode(sha256(state)).substr(0, kHashChars);
}

std::vector<std::string> login_cookies(std::string_view header, const CookieNames& names) {
    std::vector<std::string> found;
    for_each_pair(header, [&](std::string_view pair) {
        if (names.is_login(cookie_name(pair))) {
            found.emplace_back(cookie_name(pair));
        }
        return true;
    });
    return found;
}

std::vector<std::string> login_cookies_to_clear(const std::vector<std::string>& present) {
    std::vector<std::string> distinct;
    for (const std::string& name : present) {
        if (std::find(distinct.begin(), distinct.end(), name) == distinct.end()) {
            distinct.push_back(name);
        }
    }
    const std::size_t kept = kMaxPendingLogins - 1;  // the new login takes the last place
    distinct.resize(distinct.size() > kept ? distinct.size() - kept : 0);
    return distinct;
}

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
    std::optional<std::string_view> found;
    for_each_pair(header, [&](std::string_view pair) {
        if (cookie_name(pair) != name) {
            return true;
        }
        const std::size_t eq = pair.find('=');
        found = eq == std::string_view::npos ? std::string_view() : trim(pair.substr(eq + 1));
        return false;
    });
    return found;
}

namespace {

// Calls `emit(text)` with the pieces of strip_cookies' answer, in order.
template <typename Emit>
void emit_kept_cookies(std::string_view header, const CookieNames& names, Emit&& emit) {
    bool first = true;
    for_each_pair(header, [&](std::string_view pair) {
        if (!names.is_ours(cookie_name(pair))) {
            if (!first) {
                emit(std::string_view("; "));
            }
            emit(pair);
            first = false;
        }
        return true;
    });
}

}  // namespace

std::string strip_cookies(std::string_view header, const CookieNames& names) {
    std::string out;
    emit_kept_cookies(header, names, [&](std::string_view piece) { out.append(piece); });
    return out;
}

std::size_t stripped_cookies_size(std::string_view header, const CookieNames& names) {
    std::size_t size = 0;
    emit_kept_cookies(header, names, [&](std::string_view piece) { size += piece.size(); });
    return size;
}

std::size_t strip_cookies_into(std::string_view header, const CookieNames& names, char* out) {
    char* const start = out;
    emit_kept_cookies(header, names, [&](std::string_view piece) { out = std::copy(piece.begin(), piece.end(), out); });
    return static_cast<std::size_t>(out - start);
}

std::string set_cookie_value(std::string_view name, std::string_view value, const CookieAttributes& attributes) {
    std::string out;
    out.reserve(name.size() + value.size() + 80);
    out.append(name).append("=").append(value);
    out.append("; Path=/; Max-Age=").append(std::to_string(std::max<std::int64_t>(attributes.max_age, 0)));
    out.append("; HttpOnly; SameSite=Lax");
    if (attributes.secure) {
        out.append("; Secure");
    }
    return out;
}

}  // namespace spotauth
