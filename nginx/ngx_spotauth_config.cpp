// Configuration: the conf structures' create/merge and loading what a
// server needs (files read here, checked by the core); the directive
// setters are in ngx_spotauth_directives.cpp.
#include "ngx_spotauth_config.hpp"

#include "ngx_spotauth_endpoints.hpp"
#include "ngx_spotauth_zone.hpp"

#include "spotauth/config_checks.hpp"
#include "spotauth/provider_text.hpp"
#include "spotauth/redis.hpp"
#include "spotauth/settings.hpp"

#include <optional>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace spotauth_ngx {

char* conf_error(ngx_conf_t* cf, const std::string& message) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", message.c_str());
    return static_cast<char*>(NGX_CONF_ERROR);
}

spotauth::ConfigFile read_config_file(ngx_conf_t* cf, const ngx_str_t& name) {
    // Messages name the file as resolved against nginx's prefix (a relative
    // "secret" is /etc/nginx/secret), so the operator looks in the right place.
    ngx_str_t path = name;
    const bool resolved = ngx_conf_full_name(cf->cycle, &path, 1) == NGX_OK;
    const std::string shown = to_string(resolved ? path : name);
    const auto failed = [&shown](std::string why) {
        return spotauth::ConfigFile{shown, spotauth::Expected<std::string>::failure(std::move(why))};
    };
    if (!resolved) {
        return failed("cannot be resolved");
    }
    struct stat st {};
    if (::stat(to_string(path).c_str(), &st) != 0) {
        return failed(std::string("cannot be read: ") + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return failed("is not a regular file");
    }
    std::ifstream in(to_string(path), std::ios::binary);
    if (!in) {
        return failed(std::string("cannot be read: ") + std::strerror(errno));
    }
    // One byte more than allowed, so a file that grew since stat() is caught too.
    std::string text(spotauth::kMaxConfigFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > spotauth::kMaxConfigFileBytes) {
        return failed("is larger than 1 MiB");
    }
    return {shown, std::move(text), static_cast<unsigned>(st.st_mode)};
}

SrvConf* enclosing_srv_conf(ngx_conf_t* cf) {
    return static_cast<SrvConf*>(ngx_http_conf_get_module_srv_conf(cf, ngx_http_spotauth_module));
}

MainConf* enclosing_main_conf(ngx_conf_t* cf) {
    return static_cast<MainConf*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_spotauth_module));
}

namespace {

void merge_place(ConfPlace& conf, const ConfPlace& prev) {
    if (conf.line == 0) {
        conf = prev;
    }
}

constexpr ExchangeLimits kDefaultExchangeLimits = {20, 600};

// The server_name values of a server, as nginx keeps them (its merge puts
// "" there when the server has none).
std::vector<std::string> server_names_of(const ngx_http_core_srv_conf_t* server) {
    std::vector<std::string> names;
    const auto* elts = static_cast<const ngx_http_server_name_t*>(server->server_names.elts);
    for (ngx_uint_t i = 0; i < server->server_names.nelts; ++i) {
        names.push_back(to_string(elts[i].name));
    }
    return names;
}

// Every spotauth_callback location's path and server names, or nullopt when
// some cannot be compared with a URL's path (regex and named locations).
std::optional<std::vector<spotauth::CallbackLocation>> callback_locations(const MainConf& mcf) {
    if (mcf.callback_location_unknown) {
        return std::nullopt;
    }
    std::vector<spotauth::CallbackLocation> out;
    if (mcf.callback_locations != nullptr) {
        const auto* places = static_cast<CallbackPlace*>(mcf.callback_locations->elts);
        for (ngx_uint_t i = 0; i < mcf.callback_locations->nelts; ++i) {
            out.push_back({to_string(places[i].path), places[i].exact != 0, server_names_of(places[i].server)});
        }
    }
    return out;
}

spotauth::RawSettings raw_settings(ngx_conf_t* cf, const SrvConf& conf) {
    spotauth::RawSettings raw;
    raw.provider = to_string(conf.provider);
    raw.client_id = to_string(conf.client_id);
    if (conf.client_secret_file.len != 0) {
        raw.client_secret = read_config_file(cf, conf.client_secret_file);
    }
    if (conf.key_files != nullptr) {
        const auto* files = static_cast<KeyFile*>(conf.key_files->elts);
        for (ngx_uint_t i = 0; i < conf.key_files->nelts; ++i) {
            raw.key_files.push_back(read_config_file(cf, files[i].path));
        }
    }
    raw.redirect_uri = to_string(conf.redirect_uri);
    raw.scopes = to_string(conf.scopes);
    raw.authorize_url = to_string(conf.authorize_url);
    raw.token_url = to_string(conf.token_url);
    raw.api_url = to_string(conf.api_url);
    raw.profile_url = to_string(conf.profile_url);
    raw.profile_claims = {to_string(conf.profile_id_claim), to_string(conf.profile_name_claim)};
    if (conf.client_auth != NGX_CONF_UNSET_UINT) {
        raw.client_auth = static_cast<spotauth::ClientAuth>(conf.client_auth);
    }
    raw.callback_locations =
        callback_locations(*static_cast<MainConf*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_spotauth_module)));
    raw.secure_cookies = conf.cookie_secure != 0;
    return raw;
}

// A message given after parsing, pointing at `place` in nginx's own
// "in FILE:LINE" style.
void log_at(ngx_conf_t* cf, ngx_uint_t level, const ConfPlace& place, const std::string& text) {
    if (place.line == 0) {
        ngx_log_error(level, cf->log, 0, "%s", text.c_str());
    } else {
        ngx_log_error(level, cf->log, 0, "%s in %V:%ui", text.c_str(), &place.file, place.line);
    }
}

// An error given after parsing, pointing at `place`.
char* conf_error_at(ngx_conf_t* cf, const ConfPlace& place, const std::string& message) {
    log_at(cf, NGX_LOG_EMERG, place, message);
    return static_cast<char*>(NGX_CONF_ERROR);
}

const ConfPlace& place_of(const SrvConf& conf, const spotauth::SettingsMessage& message) {
    if (message.directive == spotauth::Directive::key_file && conf.key_files != nullptr &&
        message.index < conf.key_files->nelts) {
        return static_cast<KeyFile*>(conf.key_files->elts)[message.index].place;
    }
    return conf.places[static_cast<std::size_t>(message.directive)];
}

// Reads and checks everything a server with spotauth locations needs.
char* load_settings(ngx_conf_t* cf, SrvConf* conf) {
    auto checked = spotauth::check_settings(raw_settings(cf, *conf));
    if (!checked) {
        return conf_error_at(cf, place_of(*conf, checked.error()), checked.error().text);
    }
    for (const spotauth::SettingsMessage& warning : checked->warnings) {
        log_at(cf, NGX_LOG_WARN, place_of(*conf, warning), warning.text);
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
    MainConf* mcf = enclosing_main_conf(cf);
    mcf->longest_session = std::max(mcf->longest_session, conf->session_lifetime);
    s->login_uri = to_string(conf->login_uri);
    conf->settings = s;
    return NGX_CONF_OK;
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
        return conf_error_at(cf, conf->redis_place,
                             "spotauth: spotauth_redis \"" + to_string(conf->redis_url) + "\" " + endpoint.error());
    }
    if (conf->redis_password_file.len != 0) {
        const spotauth::ConfigFile file = read_config_file(cf, conf->redis_password_file);
        if (!file.text) {
            return conf_error_at(cf, conf->redis_password_place,
                                 "spotauth: spotauth_redis_password_file \"" + file.path + "\" " + file.text.error());
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
            return conf_error_at(cf, conf->redis_place,
                                 "spotauth: spotauth_redis \"" + to_string(conf->redis_url) + "\": host \"" +
                                     endpoint->host + "\" not found");
        }
        (*endpoint).host = *address;
    }
    conf->redis = pool_new<spotauth::RedisEndpoint>(cf->pool, std::move(*endpoint));
    return conf->redis != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

}  // namespace

void remember_place(ngx_conf_t* cf, ConfPlace& place) noexcept {
    ngx_str_t file = cf->conf_file->file.name;
    // Kept for merge time, after the parser's buffers are gone.
    file.data = ngx_pstrdup(cf->pool, &cf->conf_file->file.name);
    if (file.data != nullptr) {
        place = {file, cf->conf_file->line};
    }
}

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
        return conf_error_at(cf, conf->redis_password_place,
                             "spotauth: \"spotauth_redis_password_file\" needs \"spotauth_redis\"");
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
        conf->client_auth = NGX_CONF_UNSET_UINT;
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
    // "": the provider's (spotauth_provider, Spotify's without it), filled in
    // by the core, so an explicit value wins at whichever level either is set.
    ngx_conf_merge_str_value(conf->provider, prev->provider, "");
    ngx_conf_merge_uint_value(conf->client_auth, prev->client_auth, NGX_CONF_UNSET_UINT);
    ngx_conf_merge_str_value(conf->scopes, prev->scopes, "");
    ngx_conf_merge_str_value(conf->authorize_url, prev->authorize_url, "");
    ngx_conf_merge_str_value(conf->token_url, prev->token_url, "");
    ngx_conf_merge_str_value(conf->api_url, prev->api_url, "");
    ngx_conf_merge_str_value(conf->profile_url, prev->profile_url, "");
    ngx_conf_merge_str_value(conf->profile_id_claim, prev->profile_id_claim, "");
    ngx_conf_merge_str_value(conf->profile_name_claim, prev->profile_name_claim, "");
    ngx_conf_merge_str_value(conf->ca_file, prev->ca_file, "");
    ngx_conf_merge_value(conf->cookie_secure, prev->cookie_secure, 1);
    ngx_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout, 5000);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 10000);
    ngx_conf_merge_sec_value(conf->session_lifetime, prev->session_lifetime, 30 * 86400);
    ngx_conf_merge_str_value(conf->login_uri, prev->login_uri, "/auth/login");
    ngx_conf_merge_value(conf->used, prev->used, 0);
    ngx_conf_merge_value(conf->has_login, prev->has_login, 0);
    ngx_conf_merge_value(conf->protects, prev->protects, 0);
    for (std::size_t i = 0; i < spotauth::kDirectiveCount; ++i) {
        merge_place(conf->places[i], prev->places[i]);
    }
    merge_place(conf->protect_place, prev->protect_place);
    if (!conf->used) {
        return NGX_CONF_OK;
    }
    if (conf->protects && !conf->has_login) {
        return conf_error_at(cf, conf->protect_place,
                             "spotauth: \"spotauth on\" and \"spotauth redirect\" need a "
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
        conf->error_template = static_cast<const spotauth::PageTemplate*>(NGX_CONF_UNSET_PTR);
    }
    return conf;
}

// Keeps a location that protects by itself for check_locations; nginx's
// core module has merged its error_pages already (modules merge in order).
char* keep_protected_location(ngx_conf_t* cf, const LocConf* conf) {
    SrvConf* scf = enclosing_srv_conf(cf);
    if (scf->protected_locations == nullptr) {
        scf->protected_locations = ngx_array_create(cf->pool, 4, sizeof(ProtectedPlace));
    }
    auto* place = scf->protected_locations != nullptr
                      ? static_cast<ProtectedPlace*>(ngx_array_push(scf->protected_locations))
                      : nullptr;
    if (place == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    *place = {static_cast<ngx_http_core_loc_conf_t*>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module)),
              conf};
    return NGX_CONF_OK;
}

char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<LocConf*>(parent);
    auto* conf = static_cast<LocConf*>(child);
    ngx_conf_merge_uint_value(conf->protect, prev->protect, kProtectOff);
    ngx_conf_merge_ptr_value(conf->allowed_users, prev->allowed_users, nullptr);
    ngx_conf_merge_ptr_value(conf->products, prev->products, nullptr);
    ngx_conf_merge_ptr_value(conf->error_template, prev->error_template, nullptr);
    // Merged after its server: the server's scopes are known here.
    const SrvConf* scf = enclosing_srv_conf(cf);
    if (conf->products != nullptr && scf->used && scf->settings != nullptr &&
        !spotauth::scopes_include(scf->settings->client.scopes, spotauth::kProductScope)) {
        return conf_error(cf,
                          "spotauth: \"spotauth_require_product\" needs the scope \"user-read-private\" in "
                          "spotauth_scopes: without it Spotify does not tell the product and nobody gets in");
    }
    return conf->protect_place.line != 0 ? keep_protected_location(cf, conf) : NGX_CONF_OK;
}

namespace {

// What the core needs to know of a protected location.
spotauth::ProtectedLocation facts_of(const ProtectedPlace& place) {
    spotauth::ProtectedLocation l;
    l.name = to_string(place.core->name);
    l.mode = protect_mode_of(place.conf->protect);
    l.named = place.core->named != 0;
    l.has_content_handler = place.core->handler != nullptr;
    if (place.core->error_pages != nullptr) {
        const auto* pages = static_cast<const ngx_http_err_page_t*>(place.core->error_pages->elts);
        for (ngx_uint_t i = 0; i < place.core->error_pages->nelts; ++i) {
            if (pages[i].status == NGX_HTTP_UNAUTHORIZED) {
                l.error_401_target = to_string(pages[i].value.value);
                l.error_401_dynamic = pages[i].value.lengths != nullptr;
                break;
            }
        }
    }
    return l;
}

// The names ("@x") of a server's named locations (listed by nginx once its
// location trees are made, before postconfiguration).
std::vector<std::string> named_locations_of(const ngx_http_core_srv_conf_t& server) {
    std::vector<std::string> names;
    for (ngx_http_core_loc_conf_t** l = server.named_locations; l != nullptr && *l != nullptr; ++l) {
        names.push_back(to_string((*l)->name));
    }
    return names;
}

void check_server_locations(ngx_conf_t* cf, const ngx_http_core_srv_conf_t& server, const ngx_array_t& kept) {
    const auto* places = static_cast<const ProtectedPlace*>(kept.elts);
    std::vector<spotauth::ProtectedLocation> locations;
    for (ngx_uint_t i = 0; i < kept.nelts; ++i) {
        locations.push_back(facts_of(places[i]));
    }
    for (const spotauth::LocationMessage& m :
         spotauth::check_protected_locations(locations, named_locations_of(server))) {
        log_at(cf, NGX_LOG_WARN, places[m.location].conf->protect_place, m.text);
    }
}

}  // namespace

ngx_int_t check_locations(ngx_conf_t* cf) noexcept {
    char* rv = conf_boundary(cf, [cf]() -> char* {
        const auto* cmcf =
            static_cast<ngx_http_core_main_conf_t*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
        const auto* servers = static_cast<ngx_http_core_srv_conf_t* const*>(cmcf->servers.elts);
        for (ngx_uint_t s = 0; s < cmcf->servers.nelts; ++s) {
            const auto* scf =
                static_cast<const SrvConf*>(servers[s]->ctx->srv_conf[ngx_http_spotauth_module.ctx_index]);
            if (scf->protected_locations != nullptr) {
                check_server_locations(cf, *servers[s], *scf->protected_locations);
            }
        }
        return NGX_CONF_OK;
    });
    return rv == NGX_CONF_OK ? NGX_OK : NGX_ERROR;
}

}  // namespace spotauth_ngx
