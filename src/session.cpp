#include "spotauth/session.hpp"

#include <nlohmann/json.hpp>

namespace spotauth {
namespace {

using json = nlohmann::json;

// `typ` keeps one kind of cookie from being accepted as the other.
constexpr const char* kSessionType = "session";
constexpr const char* kLoginType = "login";

bool read_string(const json& claims, const char* name, std::string& out) {
    const auto it = claims.find(name);
    if (it == claims.end() || !it->is_string()) {
        return false;
    }
    out = it->get<std::string>();
    return true;
}

bool read_time(const json& claims, const char* name, UnixTime& out) {
    const auto it = claims.find(name);
    if (it == claims.end() || !it->is_number_integer()) {
        return false;
    }
    out = it->get<UnixTime>();
    return true;
}

std::optional<json> open_claims(const KeyRing& keys, std::string_view cookie, const char* type) {
    const auto plaintext = keys.open(cookie);
    if (!plaintext) {
        return std::nullopt;
    }
    json claims = json::parse(*plaintext, nullptr, false);
    std::string actual_type;
    if (!claims.is_object() || !read_string(claims, "typ", actual_type) || actual_type != type) {
        return std::nullopt;
    }
    return claims;
}

}  // namespace

std::optional<std::string> seal_session(const KeyRing& keys, const Session& s) {
    const json claims = {
        {"typ", kSessionType},
        {"sub", s.user_id},
        {"name", s.display_name},
        {"access_token", s.access_token},
        {"refresh_token", s.refresh_token},
        {"access_expires_at", s.access_expires_at},
        {"iat", s.issued_at},
        {"exp", s.expires_at},
    };
    return keys.seal(claims.dump());
}

OpenedSession open_session(const KeyRing& keys, std::string_view cookie, UnixTime now) {
    if (cookie.empty()) {
        return {CookieStatus::absent, {}, false};
    }
    const auto claims = open_claims(keys, cookie, kSessionType);
    Session s;
    if (!claims || !read_string(*claims, "sub", s.user_id) ||
        !read_string(*claims, "name", s.display_name) ||
        !read_string(*claims, "access_token", s.access_token) ||
        !read_string(*claims, "refresh_token", s.refresh_token) ||
        !read_time(*claims, "access_expires_at", s.access_expires_at) ||
        !read_time(*claims, "iat", s.issued_at) || !read_time(*claims, "exp", s.expires_at)) {
        return {CookieStatus::invalid, {}, false};
    }
    if (s.expires_at <= now) {
        return {CookieStatus::expired, {}, false};
    }
    return {CookieStatus::valid, std::move(s), !keys.sealed_with_current_key(cookie)};
}

std::optional<std::string> seal_login(const KeyRing& keys, const LoginTransaction& login) {
    const json claims = {
        {"typ", kLoginType},
        {"state", login.state},
        {"code_verifier", login.code_verifier},
        {"return_to", login.return_to},
        {"exp", login.expires_at},
    };
    return keys.seal(claims.dump());
}

std::optional<LoginTransaction> open_login(const KeyRing& keys, std::string_view cookie,
                                           UnixTime now) {
    const auto claims = open_claims(keys, cookie, kLoginType);
    LoginTransaction login;
    if (!claims || !read_string(*claims, "state", login.state) ||
        !read_string(*claims, "code_verifier", login.code_verifier) ||
        !read_string(*claims, "return_to", login.return_to) ||
        !read_time(*claims, "exp", login.expires_at) || login.expires_at <= now) {
        return std::nullopt;
    }
    return login;
}

}  // namespace spotauth
