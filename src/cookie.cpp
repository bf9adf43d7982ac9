#include "spotauth/cookie.hpp"

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

std::string_view cookie_name(std::string_view pair) {
    return trim(pair.substr(0, pair.find('=')));
}

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

CookieNames cookie_names(bool secure) {
    const std::string prefix = secure ? "__Host-" : "";
    return {prefix + "spotauth", prefix + "spotauth_login"};
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
void emit_kept_cookies(std::string_view header, std::initializer_list<std::string_view> names, Emit&& emit) {
    bool first = true;
    for_each_pair(header, [&](std::string_view pair) {
        if (std::find(names.begin(), names.end(), cookie_name(pair)) == names.end()) {
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

std::string strip_cookies(std::string_view header, std::initializer_list<std::string_view> names) {
    std::string out;
    emit_kept_cookies(header, names, [&](std::string_view piece) { out.append(piece); });
    return out;
}

std::size_t stripped_cookies_size(std::string_view header, std::initializer_list<std::string_view> names) {
    std::size_t size = 0;
    emit_kept_cookies(header, names, [&](std::string_view piece) { size += piece.size(); });
    return size;
}

std::size_t strip_cookies_into(std::string_view header, std::initializer_list<std::string_view> names,
                               char* out) {
    char* const start = out;
    emit_kept_cookies(header, names, [&](std::string_view piece) {
        out = std::copy(piece.begin(), piece.end(), out);
    });
    return static_cast<std::size_t>(out - start);
}

std::string set_cookie_value(std::string_view name, std::string_view value,
                             const CookieAttributes& attributes) {
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
