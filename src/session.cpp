#include "spotauth/session.hpp"

#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"

#include "spotauth/provider_text.hpp"

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

// A cookie sealed before provider text was checked at the edge may hold a
// control character in the name or a token that is not header-safe: names
// are cleaned as at login, and unsafe tokens make the cookie invalid.
bool clean_provider_text(Session& s) {
    const auto id = clean_user_id(s.user_id);
    if (!id || !is_token_text(s.access_token) ||
        (!s.refresh_token.empty() && !is_token_text(s.refresh_token))) {
        return false;
    }
    s.user_id = *id;
    s.display_name = clean_display_name(s.display_name);
    s.product = clean_profile_word(s.product);
    s.country = clean_profile_word(s.country);
    return true;
}

struct Claims {
    json values;
    bool current_key = true;
};

std::optional<Claims> open_claims(const KeyRing& keys, std::string_view cookie, const char* type) {
    const auto opened = keys.open(cookie);
    if (!opened) {
        return std::nullopt;
    }
    json claims = json::parse(opened->plaintext, nullptr, false);
    std::string actual_type;
    if (!claims.is_object() || !read_string(claims, "typ", actual_type) || actual_type != type) {
        return std::nullopt;
    }
    return Claims{std::move(claims), opened->current_key};
}

}  // namespace

std::optional<std::string> seal_session(const KeyRing& keys, const Session& s) {
    json claims = {
        {"typ", kSessionType},
        {"sub", s.user_id},
        {"name", s.display_name},
        {"access_token", s.access_token},
        {"refresh_token", s.refresh_token},
        {"access_expires_at", s.access_expires_at},
        {"access_issued_at", s.access_issued_at},
        {"iat", s.issued_at},
        {"exp", s.expires_at},
    };
    if (!s.sid.empty()) {
        claims["sid"] = s.sid;
    }
    // Optional: only what the provider told (no claim for unknown).
    if (!s.product.empty()) {
        claims["product"] = s.product;
    }
    if (!s.country.empty()) {
        claims["country"] = s.country;
    }
    return keys.seal(claims.dump());
}

std::string new_session_id() {
    const auto bytes = random_bytes(16);
    return bytes ? base64url_encode(*bytes) : std::string();
}

OpenedSession open_session(const KeyRing& keys, std::string_view cookie, UnixTime now) {
    if (cookie.empty()) {
        return {CookieStatus::absent, {}, false};
    }
    const auto opened = open_claims(keys, cookie, kSessionType);
    Session s;
    if (!opened) {
        return {CookieStatus::invalid, {}, false};
    }
    const json& claims = opened->values;
    // Optional: older cookies do not have them (empty: unknown).
    read_string(claims, "sid", s.sid);
    read_string(claims, "product", s.product);
    read_string(claims, "country", s.country);
    if (!read_string(claims, "sub", s.user_id) || !read_string(claims, "name", s.display_name) ||
        !read_string(claims, "access_token", s.access_token) ||
        !read_string(claims, "refresh_token", s.refresh_token) ||
        !read_time(claims, "access_expires_at", s.access_expires_at) ||
        !read_time(claims, "iat", s.issued_at) || !read_time(claims, "exp", s.expires_at) ||
        !clean_provider_text(s)) {
        return {CookieStatus::invalid, {}, false};
    }
    // Optional: older cookies do not have it (0, the lifetime is unknown).
    read_time(claims, "access_issued_at", s.access_issued_at);
    if (s.expires_at <= now) {
        return {CookieStatus::expired, {}, false};
    }
    return {CookieStatus::valid, std::move(s), !opened->current_key};
}

OpenedSession SessionCache::open(const KeyRing& keys, std::string_view cookie, UnixTime now) {
    const auto hit = index_.find(cookie);
    if (hit != index_.end()) {
        lru_.splice(lru_.begin(), lru_, hit->second);
        OpenedSession opened = hit->second->second;
        if (opened.session.expires_at <= now) {
            return {CookieStatus::expired, {}, false};
        }
        return opened;
    }
    OpenedSession opened = open_session(keys, cookie, now);
    if (opened.status != CookieStatus::valid || capacity_ == 0) {
        return opened;
    }
    if (index_.size() >= capacity_) {
        index_.erase(lru_.back().first);
        lru_.pop_back();
    }
    lru_.emplace_front(std::string(cookie), opened);
    index_.emplace(lru_.front().first, lru_.begin());
    return opened;
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
    const auto opened = open_claims(keys, cookie, kLoginType);
    LoginTransaction login;
    if (!opened || !read_string(opened->values, "state", login.state) ||
        !read_string(opened->values, "code_verifier", login.code_verifier) ||
        !read_string(opened->values, "return_to", login.return_to) ||
        !read_time(opened->values, "exp", login.expires_at) || login.expires_at <= now) {
        return std::nullopt;
    }
    return login;
}

}  // namespace spotauth
