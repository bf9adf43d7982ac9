// Configuration (see ngx_spotauth_config.hpp).
#include "ngx_spotauth_config.hpp"

#include "ngx_spotauth_endpoints.hpp"
#include "ngx_spotauth_zone.hpp"

#include "spotauth/provider_text.hpp"
#include "spotauth/redis.hpp"
#include "spotauth/settings.hpp"

#include <optional>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace spotauth_ngx {
namespace {

constexpr std::size_t kMinZoneSize = 64 * 1024;
constexpr std::size_t kDefaultZoneSize = 1024 * 1024;
constexpr ExchangeLimits kDefaultExchangeLimits = {20, 600};

char* conf_error(ngx_conf_t* cf, const std::string& message) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", message.c_str());
    return static_cast<char*>(NGX_CONF_ERROR);
}

// Config-time functions nginx calls: an exception becomes a config error.
template <typename Body>
char* conf_boundary(ngx_conf_t* cf, Body&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        return conf_error(cf, std::string("spotauth: ") + e.what());
    } catch (...) {
        return conf_error(cf, "spotauth: configuration failed");
    }
}

spotauth::ConfigFile read_config_file(ngx_conf_t* cf, const ngx_str_t& name) {
    ngx_str_t path = name;
    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return {to_string(name), spotauth::Expected<std::string>::failure("cannot be resolved")};
    }
    std::ifstream in(to_string(path), std::ios::binary);
    if (!in) {
        return {to_string(name), spotauth::Expected<std::string>::failure(std::string("cannot be read: ") +
                                                                          std::strerror(errno))};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return {to_string(name), text.str()};
}

spotauth::RawSettings raw_settings(ngx_conf_t* cf, const SrvConf& conf) {
    spotauth::RawSettings raw;
    raw.client_id = to_string(conf.client_id);
    if (conf.client_secret_file.len != 0) {
        raw.client_secret = read_config_file(cf, conf.client_secret_file);
    }
    if (conf.key_files != nullptr) {
        const auto* paths = static_cast<ngx_str_t*>(conf.key_files->elts);
        for (ngx_uint_t i = 0; i < conf.key_files->nelts; ++i) {
            raw.key_files.push_back(read_config_file(cf, paths[i]));
        }
    }
    raw.redirect_uri = to_string(conf.redirect_uri);
    raw.scopes = to_string(conf.scopes);
    raw.authorize_url = to_string(conf.authorize_url);
    raw.token_url = to_string(conf.token_url);
    raw.api_url = to_string(conf.api_url);
    raw.secure_cookies = conf.cookie_secure != 0;
    return raw;
}

// Reads and checks everything a server with spotauth locations needs.
char* load_settings(ngx_conf_t* cf, SrvConf* conf) {
    auto checked = spotauth::check_settings(raw_settings(cf, *conf));
    if (!checked) {
        return conf_error(cf, checked.error());
    }
    for (const std::string& warning : checked->warnings) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "%s", warning.c_str());
    }
    Settings* s = pool_new<Settings>(cf->pool);
    if (s == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    s->client = std::move(checked->client);
    s->keys = spotauth::KeyRing(std::move(checked->keys));
    s->secure_cookies = conf->cookie_secure != 0;
    s->cookies = spotauth::cookie_names(s->secure_cookies);
    s->limits = {static_cast<long>(conf->connect_timeout), static_cast<long>(conf->timeout), to_string(conf->ca_file)};
    s->session_lifetime = conf->session_lifetime;
    s->login_uri = to_string(conf->login_uri);
    conf->settings = s;
    return NGX_CONF_OK;
}

SrvConf* enclosing_srv_conf(ngx_conf_t* cf) {
    return static_cast<SrvConf*>(ngx_http_conf_get_module_srv_conf(cf, ngx_http_spotauth_module));
}

MainConf* enclosing_main_conf(ngx_conf_t* cf) {
    return static_cast<MainConf*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_spotauth_module));
}

// Records that this server (and so the http block) needs the settings.
void mark_used(ngx_conf_t* cf) {
    enclosing_srv_conf(cf)->used = 1;
    enclosing_main_conf(cf)->used = 1;
}

char* set_content_handler(ngx_conf_t* cf, ngx_http_handler_pt handler) {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    if (clcf->handler != nullptr) {
        return const_cast<char*>("is duplicate: this location already has a content handler");
    }
    clcf->handler = handler;
    return NGX_CONF_OK;
}

char* set_endpoint(ngx_conf_t* cf, ngx_http_handler_pt handler) {
    char* rv = set_content_handler(cf, handler);
    if (rv == NGX_CONF_OK) {
        mark_used(cf);
    }
    return rv;
}

// A host name becomes an address here, at configuration time: a worker
// never waits on DNS when it reconnects.
std::optional<std::string> resolve(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
        return std::nullopt;
    }
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr = found->ai_family == AF_INET6
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
                           : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
    const bool ok = inet_ntop(found->ai_family, addr, text, sizeof text) != nullptr;
    freeaddrinfo(found);
    return ok ? std::optional<std::string>(text) : std::nullopt;
}

// spotauth_redis and spotauth_redis_password_file, checked at init_main_conf.
char* load_redis(ngx_conf_t* cf, MainConf* conf) {
    auto endpoint = spotauth::parse_redis_url(to_view(conf->redis_url));
    if (!endpoint) {
        return conf_error(cf, "spotauth: spotauth_redis \"" + to_string(conf->redis_url) + "\" " + endpoint.error());
    }
    if (conf->redis_password_file.len != 0) {
        const spotauth::ConfigFile file = read_config_file(cf, conf->redis_password_file);
        if (!file.text) {
            return conf_error(cf, "spotauth: spotauth_redis_password_file \"" + file.path + "\" " + file.text.error());
        }
        std::string password = *file.text;
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r' || password.back() == ' ')) {
            password.pop_back();
        }
        (*endpoint).password = password;
    }
    if (endpoint->unix_path.empty()) {
        const auto address = resolve(endpoint->host);
        if (!address) {
            return conf_error(cf, "spotauth: spotauth_redis \"" + to_string(conf->redis_url) + "\": host \"" +
                                      endpoint->host + "\" not found");
        }
        (*endpoint).host = *address;
    }
    conf->redis = pool_new<spotauth::RedisEndpoint>(cf->pool, std::move(*endpoint));
    return conf->redis != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

ngx_shm_zone_t* add_zone(ngx_conf_t* cf, ngx_str_t name, std::size_t size) {
    ngx_shm_zone_t* zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_spotauth_module);
    if (zone != nullptr) {
        zone->init = init_zone;
    }
    return zone;
}

}  // namespace

ngx_conf_enum_t protect_modes[] = {{ngx_string("off"), kProtectOff},
                                   {ngx_string("on"), 1},
                                   {ngx_string("retry"), 2},
                                   {ngx_string("redirect"), 3},
                                   {ngx_null_string, 0}};

void* create_main_conf(ngx_conf_t* cf) noexcept {
    auto* conf = static_cast<MainConf*>(ngx_pcalloc(cf->pool, sizeof(MainConf)));
    if (conf != nullptr) {
        conf->refresh_leeway = NGX_CONF_UNSET;
        conf->refresh_cache = NGX_CONF_UNSET_MSEC;
    }
    return conf;
}

char* init_main_conf(ngx_conf_t* cf, void* data) noexcept {
    auto* conf = static_cast<MainConf*>(data);
    ngx_conf_init_value(conf->refresh_leeway, 60);
    ngx_conf_init_msec_value(conf->refresh_cache, 30000);
    if (!conf->exchange_limits_set) {
        conf->exchange_limits = kDefaultExchangeLimits;
    }
    if (conf->redis_password_file.len != 0 && conf->redis_url.len == 0) {
        return conf_error(cf, "spotauth: \"spotauth_redis_password_file\" needs \"spotauth_redis\"");
    }
    if (conf->redis_url.len == 0) {
        return NGX_CONF_OK;
    }
    return conf_boundary(cf, [&] { return load_redis(cf, conf); });
}

void* create_srv_conf(ngx_conf_t* cf) noexcept {
    auto* conf = static_cast<SrvConf*>(ngx_pcalloc(cf->pool, sizeof(SrvConf)));
    if (conf != nullptr) {
        conf->key_files = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
        conf->cookie_secure = NGX_CONF_UNSET;
        conf->connect_timeout = NGX_CONF_UNSET_MSEC;
        conf->timeout = NGX_CONF_UNSET_MSEC;
        conf->session_lifetime = NGX_CONF_UNSET;
        conf->used = NGX_CONF_UNSET;
        conf->has_login = NGX_CONF_UNSET;
        conf->protects = NGX_CONF_UNSET;
    }
    return conf;
}

char* merge_srv_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<SrvConf*>(parent);
    auto* conf = static_cast<SrvConf*>(child);
    ngx_conf_merge_str_value(conf->client_id, prev->client_id, "");
    ngx_conf_merge_str_value(conf->client_secret_file, prev->client_secret_file, "");
    ngx_conf_merge_ptr_value(conf->key_files, prev->key_files, nullptr);
    ngx_conf_merge_str_value(conf->redirect_uri, prev->redirect_uri, "");
    ngx_conf_merge_str_value(conf->scopes, prev->scopes, "user-read-email");
    ngx_conf_merge_str_value(conf->authorize_url, prev->authorize_url, "https://accounts.spotify.com/authorize");
    ngx_conf_merge_str_value(conf->token_url, prev->token_url, "https://accounts.spotify.com/api/token");
    ngx_conf_merge_str_value(conf->api_url, prev->api_url, "https://api.spotify.com");
    ngx_conf_merge_str_value(conf->ca_file, prev->ca_file, "");
    ngx_conf_merge_value(conf->cookie_secure, prev->cookie_secure, 1);
    ngx_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout, 5000);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 10000);
    ngx_conf_merge_sec_value(conf->session_lifetime, prev->session_lifetime, 30 * 86400);
    ngx_conf_merge_str_value(conf->login_uri, prev->login_uri, "/auth/login");
    ngx_conf_merge_value(conf->used, prev->used, 0);
    ngx_conf_merge_value(conf->has_login, prev->has_login, 0);
    ngx_conf_merge_value(conf->protects, prev->protects, 0);
    if (!conf->used) {
        return NGX_CONF_OK;
    }
    if (conf->protects && !conf->has_login) {
        return conf_error(cf, "spotauth: \"spotauth on\" and \"spotauth redirect\" need a "
                              "\"location = /auth/login { spotauth_login; }\" in the same server: "
                              "their 401 answers and redirects point to it");
    }
    return conf_boundary(cf, [&] { return load_settings(cf, conf); });
}

void* create_loc_conf(ngx_conf_t* cf) noexcept {
    auto* conf = static_cast<LocConf*>(ngx_pcalloc(cf->pool, sizeof(LocConf)));
    if (conf != nullptr) {
        conf->protect = NGX_CONF_UNSET_UINT;
        conf->allowed_users = static_cast<const spotauth::UserAllowlist*>(NGX_CONF_UNSET_PTR);
        conf->products = static_cast<const std::vector<std::string>*>(NGX_CONF_UNSET_PTR);
    }
    return conf;
}

char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<LocConf*>(parent);
    auto* conf = static_cast<LocConf*>(child);
    ngx_conf_merge_uint_value(conf->protect, prev->protect, kProtectOff);
    ngx_conf_merge_ptr_value(conf->allowed_users, prev->allowed_users, nullptr);
    ngx_conf_merge_ptr_value(conf->products, prev->products, nullptr);
    // Merged after its server: the server's scopes are known here.
    const SrvConf* scf = enclosing_srv_conf(cf);
    if (conf->products != nullptr && scf->used &&
        !spotauth::scopes_include(to_view(scf->scopes), spotauth::kProductScope)) {
        return conf_error(cf, "spotauth: \"spotauth_require_product\" needs the scope \"user-read-private\" in "
                              "spotauth_scopes: without it Spotify does not tell the product and nobody gets in");
    }
    return NGX_CONF_OK;
}

char* set_login(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
#if (NGX_PCRE)
    if (clcf->regex != nullptr) {
        return const_cast<char*>("must be in a location with a plain path (for example \"location = /auth/login\"), "
                                 "so that 401 answers can point to it");
    }
#endif
    enclosing_srv_conf(cf)->login_uri = clcf->name;
    enclosing_srv_conf(cf)->has_login = 1;
    return set_endpoint(cf, &endpoint_handler<&login_endpoint>);
}

char* set_callback(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    return set_endpoint(cf, &endpoint_handler<&callback_endpoint>);
}

char* set_session(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    return set_endpoint(cf, &endpoint_handler<&session_endpoint>);
}

char* set_token(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    return set_endpoint(cf, &endpoint_handler<&token_endpoint>);
}

char* set_logout(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    return set_endpoint(cf, &endpoint_handler<&logout_endpoint, NGX_HTTP_POST>);
}

// Metrics need the shared zone but no OAuth settings.
char* set_status(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    char* rv = set_content_handler(cf, &status_handler);
    if (rv == NGX_CONF_OK) {
        enclosing_main_conf(cf)->used = 1;
    }
    return rv;
}

char* set_protect(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    char* rv = ngx_conf_set_enum_slot(cf, cmd, conf);
    if (rv == NGX_CONF_OK && static_cast<LocConf*>(conf)->protect != kProtectOff) {
        mark_used(cf);
        enclosing_srv_conf(cf)->protects = 1;
    }
    return rv;
}

// spotauth_zone name:size
char* set_zone(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<MainConf*>(conf);
    if (mcf->zone != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    const ngx_str_t arg = static_cast<ngx_str_t*>(cf->args->elts)[1];
    const auto* colon = static_cast<u_char*>(ngx_strlchr(arg.data, arg.data + arg.len, ':'));
    if (colon == nullptr || colon == arg.data) {
        return const_cast<char*>("must be name:size, for example \"spotauth:1m\"");
    }
    const ngx_str_t name{static_cast<size_t>(colon - arg.data), arg.data};
    ngx_str_t size_text{arg.len - name.len - 1, const_cast<u_char*>(colon) + 1};
    const ssize_t size = ngx_parse_size(&size_text);
    if (size == NGX_ERROR || static_cast<size_t>(size) < kMinZoneSize) {
        return const_cast<char*>("has an invalid size: use at least 64k, for example \"spotauth:1m\"");
    }
    mcf->zone = add_zone(cf, name, static_cast<size_t>(size));
    return mcf->zone != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

// spotauth_exchange_limit per_address per_worker (code exchanges per minute)
char* set_exchange_limit(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<MainConf*>(conf);
    if (mcf->exchange_limits_set) {
        return const_cast<char*>("is duplicate");
    }
    const auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    const ngx_int_t per_address = ngx_atoi(args[1].data, args[1].len);
    const ngx_int_t in_total = ngx_atoi(args[2].data, args[2].len);
    if (per_address <= 0 || in_total <= 0 || per_address > 1000000 || in_total > 1000000) {
        return const_cast<char*>("takes two positive numbers of code exchanges per minute: per client "
                                 "address and per worker, for example \"spotauth_exchange_limit 20 600\"");
    }
    mcf->exchange_limits = {static_cast<std::uint32_t>(per_address), static_cast<std::uint32_t>(in_total)};
    mcf->exchange_limits_set = 1;
    return NGX_CONF_OK;
}

char* add_key_file(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* scf = static_cast<SrvConf*>(conf);
    if (scf->key_files == NGX_CONF_UNSET_PTR) {
        scf->key_files = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (scf->key_files == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    auto* path = static_cast<ngx_str_t*>(ngx_array_push(scf->key_files));
    if (path == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    *path = static_cast<ngx_str_t*>(cf->args->elts)[1];
    return NGX_CONF_OK;
}

// spotauth_allow_users path | off: the file is read now (and on every reload).
char* set_allow_users(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<LocConf*>(conf);
    if (lcf->allowed_users != NGX_CONF_UNSET_PTR) {
        return const_cast<char*>("is duplicate");
    }
    const ngx_str_t path = static_cast<ngx_str_t*>(cf->args->elts)[1];
    if (to_view(path) == "off") {
        lcf->allowed_users = nullptr;
        return NGX_CONF_OK;
    }
    return conf_boundary(cf, [&]() -> char* {
        const std::string prefix = "spotauth: spotauth_allow_users \"" + to_string(path) + "\" ";
        const spotauth::ConfigFile file = read_config_file(cf, path);
        if (!file.text) {
            return conf_error(cf, prefix + file.text.error());
        }
        auto list = spotauth::UserAllowlist::parse(*file.text);
        if (!list) {
            return conf_error(cf, prefix + list.error());
        }
        if (list->size() == 0) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "%s", (prefix + "lists nobody: every signed-in user is "
                                                                      "refused").c_str());
        }
        lcf->allowed_users = pool_new<spotauth::UserAllowlist>(cf->pool, std::move(*list));
        return lcf->allowed_users != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
    });
}

// spotauth_require_product product ... | off
char* set_require_product(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<LocConf*>(conf);
    if (lcf->products != NGX_CONF_UNSET_PTR) {
        return const_cast<char*>("is duplicate");
    }
    const auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    if (cf->args->nelts == 2 && to_view(args[1]) == "off") {
        lcf->products = nullptr;
        return NGX_CONF_OK;
    }
    return conf_boundary(cf, [&]() -> char* {
        std::vector<std::string> products;
        for (ngx_uint_t i = 1; i < cf->args->nelts; ++i) {
            const std::string product = to_string(args[i]);
            if (product.empty() || product == "off" || spotauth::clean_profile_word(product) != product) {
                return const_cast<char*>("takes Spotify products as /v1/me names them, for example "
                                         "\"spotauth_require_product premium\", or \"off\"");
            }
            products.push_back(product);
        }
        lcf->products = pool_new<std::vector<std::string>>(cf->pool, std::move(products));
        return lcf->products != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
    });
}

ngx_int_t ensure_zone(ngx_conf_t* cf) noexcept {
    MainConf* mcf = enclosing_main_conf(cf);
    if (mcf->used && mcf->zone == nullptr) {
        // No spotauth_zone: workers still need one place to coordinate.
        ngx_str_t name = ngx_string("spotauth");
        mcf->zone = add_zone(cf, name, kDefaultZoneSize);
        if (mcf->zone == nullptr) {
            return NGX_ERROR;
        }
    }
    return NGX_OK;
}

}  // namespace spotauth_ngx
