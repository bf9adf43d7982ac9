// The glue's shared types: the module's configuration structures, the
// settings a server runs with, and the small helpers every room uses
// (strings between nginx and C++, time, pool-owned objects, the C boundary;
// those not inline are in ngx_spotauth_module.cpp).
#pragma once

#include "ngx_spotauth_compat.hpp"

#include "spotauth/access.hpp"
#include "spotauth/authorization.hpp"
#include "spotauth/cookie.hpp"
#include "spotauth/jwe.hpp"
#include "spotauth/oauth.hpp"
#include "spotauth/page.hpp"
#include "spotauth/redis.hpp"
#include "spotauth/refresh.hpp"
#include "spotauth/session.hpp"
#include "spotauth/settings.hpp"

#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern "C" ngx_module_t ngx_http_spotauth_module;

namespace spotauth_ngx {

// Everything a server needs at request time, checked and loaded once at
// configuration time (files read, keys parsed). Immutable after that.
struct Settings {
    spotauth::ClientConfig client;
    spotauth::KeyRing keys{{}};
    spotauth::CookieNames cookies;
    bool secure_cookies = true;
    spotauth::CallLimits limits;
    spotauth::UnixTime session_lifetime = 0;
    std::string login_uri;
};

// Where a directive was set (line 0: nowhere), for the messages given after
// parsing, when nginx's own "in FILE:LINE" would name the end of the block.
struct ConfPlace {
    ngx_str_t file;
    ngx_uint_t line;
};

struct KeyFile {
    ngx_str_t path;
    ConfPlace place;
};

struct SrvConf {
    ngx_str_t provider;      // spotauth_provider; "": Spotify's defaults
    ngx_uint_t client_auth;  // a spotauth::ClientAuth; NGX_CONF_UNSET_UINT: the provider's
    ngx_str_t client_id;
    ngx_str_t client_secret_file;
    ngx_array_t* key_files;  // of KeyFile
    ngx_str_t redirect_uri;
    ngx_str_t scopes;
    ngx_str_t authorize_url;
    ngx_str_t token_url;
    ngx_str_t api_url;
    ngx_str_t profile_url;
    ngx_str_t profile_id_claim;
    ngx_str_t profile_name_claim;
    ngx_str_t ca_file;
    ngx_flag_t cookie_secure;
    ngx_msec_t connect_timeout;
    ngx_msec_t timeout;
    time_t session_lifetime;
    ngx_str_t login_uri;   // where spotauth_login sits in this server
    ngx_flag_t used;       // some location of this server needs the settings
    ngx_flag_t has_login;  // a location of this server has spotauth_login
    ngx_flag_t protects;   // "spotauth on|redirect|retry" is used in this server
    // By spotauth::Directive; [use] is the first directive needing the settings.
    ConfPlace places[spotauth::kDirectiveCount];
    ConfPlace protect_place;           // the first "spotauth on|redirect|retry"
    ngx_array_t* protected_locations;  // of ProtectedPlace: checked at postconfiguration
    Settings* settings;
};

// A location with spotauth_callback, and its server (for its server_names).
struct CallbackPlace {
    ngx_str_t path;
    ngx_flag_t exact;
    ngx_http_core_srv_conf_t* server;
};

// Code exchanges per minute (spotauth_exchange_limit).
struct ExchangeLimits {
    std::uint32_t per_address;
    std::uint32_t in_total;  // per worker
};

// http-level settings shared by every server: refresh coordination is per
// worker, and its memory is one shared zone.
struct MainConf {
    ngx_shm_zone_t* zone;
    ngx_str_t redis_url;             // spotauth_redis, as written
    ngx_str_t redis_password_file;   // spotauth_redis_password_file
    ConfPlace redis_place;           // where spotauth_redis is
    ConfPlace redis_password_place;  // where spotauth_redis_password_file is
    spotauth::RedisEndpoint* redis;  // checked and resolved; null without Redis
    time_t longest_session;          // the largest spotauth_session_lifetime of any server
    time_t refresh_leeway;
    ngx_msec_t refresh_cache;
    ExchangeLimits exchange_limits;
    ngx_flag_t exchange_limits_set;
    ngx_flag_t used;
    ngx_array_t* callback_locations;       // of CallbackPlace, of every server
    ngx_flag_t callback_location_unknown;  // a regex or named location has one
};

// `spotauth off | on | retry | redirect` (0 is off), who may go on once
// signed in (spotauth_allow_users, spotauth_require_product; null: anyone)
// and the page people see (spotauth_error_template; null: the built-in
// one); NGX_CONF_UNSET_PTR until merged. They live in the cycle's pool.
struct LocConf {
    ngx_uint_t protect;
    const spotauth::UserAllowlist* allowed_users;
    const std::vector<std::string>* products;
    const spotauth::PageTemplate* error_template;
    // Where this location itself (not an enclosing block) says
    // `spotauth on|redirect|retry` (line 0: it does not); not merged.
    ConfPlace protect_place;
};

// LocConf::protect: off, or 1 + the spotauth::ProtectMode (protect_modes,
// ngx_spotauth_directives.cpp).
constexpr ngx_uint_t kProtectOff = 0;

constexpr ngx_uint_t protect_value(spotauth::ProtectMode mode) { return static_cast<ngx_uint_t>(mode) + 1; }

// The mode of a `spotauth` value other than off.
inline spotauth::ProtectMode protect_mode_of(ngx_uint_t protect) {
    return static_cast<spotauth::ProtectMode>(protect - 1);
}

// A location with its own `spotauth on|redirect|retry`, kept at merge time
// for the checks of its server's locations.
struct ProtectedPlace {
    ngx_http_core_loc_conf_t* core;
    const LocConf* conf;
};

// The rules of the request's location.
inline spotauth::AccessRules access_rules_of(ngx_http_request_t* r) {
    const auto* lcf = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_spotauth_module));
    return {lcf->allowed_users, lcf->products};
}

// The page template of the request's location.
inline const spotauth::PageTemplate& page_template_of(ngx_http_request_t* r) {
    const auto* lcf = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_spotauth_module));
    return lcf->error_template != nullptr ? *lcf->error_template : spotauth::PageTemplate::builtin();
}

inline const MainConf* main_conf_of(ngx_http_request_t* r) {
    return static_cast<MainConf*>(ngx_http_get_module_main_conf(r, ngx_http_spotauth_module));
}

// Null where no location of the server uses the module.
inline const Settings* settings_of(ngx_http_request_t* r) {
    return static_cast<SrvConf*>(ngx_http_get_module_srv_conf(r, ngx_http_spotauth_module))->settings;
}

inline std::string to_string(const ngx_str_t& s) { return std::string(reinterpret_cast<const char*>(s.data), s.len); }

inline std::string_view to_view(const ngx_str_t& s) {
    return std::string_view(reinterpret_cast<const char*>(s.data), s.len);
}

// Copies `s` into `pool`; {0, NULL} when out of memory.
ngx_str_t to_ngx(ngx_pool_t* pool, std::string_view s) noexcept;

inline spotauth::UnixTime now() { return static_cast<spotauth::UnixTime>(ngx_time()); }

inline spotauth::MilliTime now_ms() {
    const ngx_time_t* tp = ngx_timeofday();
    return static_cast<spotauth::MilliTime>(tp->sec) * 1000 + static_cast<spotauth::MilliTime>(tp->msec);
}

// --- objects owned by an nginx pool ------------------------------------------

template <typename T>
void destroy_pool_object(void* object) noexcept {
    static_cast<T*>(object)->~T();
}

// A T built in `pool`'s memory and destroyed with the pool (a request's
// state lives exactly as long as the request). Null when out of memory.
template <typename T, typename... Args>
T* pool_new(ngx_pool_t* pool, Args&&... args) {
    ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(pool, sizeof(T));
    if (cleanup == nullptr) {
        return nullptr;
    }
    T* object = new (cleanup->data) T(std::forward<Args>(args)...);
    cleanup->handler = &destroy_pool_object<T>;  // only once constructed
    return object;
}

// The T that pool_new put in `pool`, if any.
template <typename T>
T* pool_find(ngx_pool_t* pool) {
    for (ngx_pool_cleanup_t* c = pool->cleanup; c != nullptr; c = c->next) {
        if (c->handler == &destroy_pool_object<T>) {
            return static_cast<T*>(c->data);
        }
    }
    return nullptr;
}

// --- the C boundary ----------------------------------------------------------

// Logs an exception that reached a function nginx or libcurl called.
void log_escaped_exception(ngx_log_t* log, const char* where) noexcept;

// Runs `body` (returning ngx_int_t) for a function nginx calls: any
// exception is logged and becomes `on_error`.
template <typename Body>
ngx_int_t c_boundary(ngx_log_t* log, const char* where, ngx_int_t on_error, Body&& body) noexcept {
    try {
        return body();
    } catch (...) {
        log_escaped_exception(log, where);
    }
    return on_error;
}

}  // namespace spotauth_ngx
