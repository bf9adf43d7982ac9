// The module's directives: their table (commands[], where each directive is
// allowed) beside the setters that record what it says. A new directive
// touches this file, the conf structures (ngx_spotauth_module.hpp) and their
// create/merge (ngx_spotauth_config.cpp).
#include "ngx_spotauth_config.hpp"

#include "ngx_spotauth_endpoints.hpp"
#include "ngx_spotauth_zone.hpp"

#include "spotauth/authorization.hpp"
#include "spotauth/config_checks.hpp"
#include "spotauth/oauth.hpp"
#include "spotauth/page.hpp"
#include "spotauth/provider_text.hpp"
#include "spotauth/providers.hpp"
#include "spotauth/settings.hpp"

#include <string>

namespace spotauth_ngx {
namespace {

constexpr std::size_t kMinZoneSize = 64 * 1024;
constexpr std::size_t kDefaultZoneSize = 1024 * 1024;

// Records that this server (and so the http block) needs the settings, and
// where it first said so.
void mark_used(ngx_conf_t* cf) {
    SrvConf* scf = enclosing_srv_conf(cf);
    if (scf->used != 1) {
        remember_place(cf, scf->places[static_cast<std::size_t>(spotauth::Directive::use)]);
    }
    scf->used = 1;
    enclosing_main_conf(cf)->used = 1;
}

ngx_http_core_loc_conf_t* core_loc_conf(ngx_conf_t* cf) {
    return static_cast<ngx_http_core_loc_conf_t*>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
}

// "on", "off", "redirect" or "retry"
std::string enum_values_text(const ngx_conf_enum_t* values) {
    std::string text;
    for (const ngx_conf_enum_t* v = values; v->name.len != 0; ++v) {
        if (!text.empty()) {
            text += (v + 1)->name.len != 0 ? ", " : " or ";
        }
        text += "\"" + to_string(v->name) + "\"";
    }
    return text;
}

// ngx_conf_set_enum_slot, but an invalid value is answered with the valid
// ones, as nginx does for flags.
char* set_enum_naming_values(ngx_conf_t* cf, ngx_command_t* cmd, ngx_uint_t& field) {
    if (field != NGX_CONF_UNSET_UINT) {
        return const_cast<char*>("is duplicate");
    }
    const ngx_str_t& value = static_cast<ngx_str_t*>(cf->args->elts)[1];
    const auto* values = static_cast<const ngx_conf_enum_t*>(cmd->post);
    for (const ngx_conf_enum_t* v = values; v->name.len != 0; ++v) {
        if (v->name.len == value.len && ngx_strcasecmp(v->name.data, value.data) == 0) {
            field = v->value;
            return NGX_CONF_OK;
        }
    }
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\" directive, it must be %s", &value,
                       &cmd->name, enum_values_text(values).c_str());
    return static_cast<char*>(NGX_CONF_ERROR);
}

char* set_content_handler(ngx_conf_t* cf, ngx_http_handler_pt handler) {
    ngx_http_core_loc_conf_t* clcf = core_loc_conf(cf);
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

// `spotauth retry` belongs in the named location an API location's
// error_page 401 sends to, and nowhere else.
char* check_retry_placement(ngx_conf_t* cf) {
    const bool in_named_location = cf->cmd_type == NGX_HTTP_LOC_CONF && core_loc_conf(cf)->named;
    const auto problem = spotauth::retry_placement_problem(in_named_location);
    return problem ? conf_error(cf, *problem) : NGX_CONF_OK;
}

ngx_shm_zone_t* add_zone(ngx_conf_t* cf, ngx_str_t name, std::size_t size) {
    ngx_shm_zone_t* zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_spotauth_module);
    if (zone != nullptr) {
        zone->init = init_zone;
    }
    return zone;
}

// A server-level directive set by nginx's `Slot` (ngx_conf_set_str_slot...),
// its place remembered for the messages of spotauth::check_settings.
template <char* (*Slot)(ngx_conf_t*, ngx_command_t*, void*), spotauth::Directive D>
char* set_placed(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    char* rv = Slot(cf, cmd, conf);
    if (rv == NGX_CONF_OK) {
        remember_place(cf, static_cast<SrvConf*>(conf)->places[static_cast<std::size_t>(D)]);
    }
    return rv;
}

// The same for an http-level string directive, its place kept in `Place`.
template <ConfPlace MainConf::*Place>
char* set_main_placed(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    char* rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv == NGX_CONF_OK) {
        remember_place(cf, static_cast<MainConf*>(conf)->*Place);
    }
    return rv;
}

// Prefix, regex and named locations serve more or other paths than their
// name, and 401 answers and redirects point to that name.
char* set_login(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    const ngx_http_core_loc_conf_t* clcf = core_loc_conf(cf);
    if (!clcf->exact_match) {
        return const_cast<char*>(
            "must be in an exact-match location, for example "
            "\"location = /auth/login { spotauth_login; }\": 401 answers and redirects "
            "point to the location's path");
    }
    enclosing_srv_conf(cf)->login_uri = clcf->name;
    enclosing_srv_conf(cf)->has_login = 1;
    return set_endpoint(cf, &endpoint_handler<&login_endpoint>);
}

// Remembers the location, for the check of spotauth_redirect_uri's path.
char* set_callback(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    const ngx_http_core_loc_conf_t* clcf = core_loc_conf(cf);
    MainConf* mcf = enclosing_main_conf(cf);
    bool comparable = !clcf->named;
#if (NGX_PCRE)
    comparable = comparable && clcf->regex == nullptr;
#endif
    if (!comparable) {
        mcf->callback_location_unknown = 1;
    } else {
        if (mcf->callback_locations == nullptr) {
            mcf->callback_locations = ngx_array_create(cf->pool, 2, sizeof(CallbackPlace));
        }
        auto* place = mcf->callback_locations != nullptr
                          ? static_cast<CallbackPlace*>(ngx_array_push(mcf->callback_locations))
                          : nullptr;
        if (place == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        *place = {clcf->name, clcf->exact_match ? 1 : 0,
                  static_cast<ngx_http_core_srv_conf_t*>(ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module))};
    }
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
    char* rv = set_content_handler(cf, &plain_endpoint_handler<&status_endpoint>);
    if (rv == NGX_CONF_OK) {
        enclosing_main_conf(cf)->used = 1;
    }
    return rv;
}

// The health check needs the server's settings (its keys) and the zone.
char* set_health(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    return set_endpoint(cf, &plain_endpoint_handler<&health_endpoint>);
}

// Remembers where a location itself protects, for the checks of its
// server's locations (ngx_spotauth_config.cpp).
char* set_protect(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    auto* lcf = static_cast<LocConf*>(conf);
    char* rv = conf_boundary(cf, [&] { return set_enum_naming_values(cf, cmd, lcf->protect); });
    if (rv != NGX_CONF_OK || lcf->protect == kProtectOff) {
        return rv;
    }
    if (protect_mode_of(lcf->protect) == spotauth::ProtectMode::retry) {
        rv = conf_boundary(cf, [&] { return check_retry_placement(cf); });
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }
    if (cf->cmd_type == NGX_HTTP_LOC_CONF) {
        remember_place(cf, lcf->protect_place);
    }
    mark_used(cf);
    SrvConf* scf = enclosing_srv_conf(cf);
    if (scf->protect_place.line == 0) {
        remember_place(cf, scf->protect_place);
    }
    scf->protects = 1;
    return NGX_CONF_OK;
}

// spotauth_profile_claims id=<field> name=<field> (either or both)
char* set_profile_claims(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    auto* scf = static_cast<SrvConf*>(conf);
    if (scf->profile_id_claim.data != nullptr || scf->profile_name_claim.data != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    return conf_boundary(cf, [&]() -> char* {
        const auto* args = static_cast<ngx_str_t*>(cf->args->elts);
        std::vector<std::string> values;
        for (ngx_uint_t i = 1; i < cf->args->nelts; ++i) {
            values.push_back(to_string(args[i]));
        }
        // Over empty fields: a claim not given stays empty, the provider's.
        const auto claims = spotauth::parse_profile_claims(values, spotauth::ProfileClaims{"", ""});
        if (!claims) {
            return conf_error(cf, "\"" + to_string(cmd->name) + "\" directive " + claims.error());
        }
        const auto stored = [cf](const std::string& claim, ngx_str_t& field) {
            field = claim.empty() ? ngx_str_t{0, nullptr} : to_ngx(cf->pool, claim);
            return claim.empty() || field.data != nullptr;
        };
        const bool ok = stored(claims->id, scf->profile_id_claim) && stored(claims->name, scf->profile_name_claim);
        return ok ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
    });
}

// spotauth_provider spotify | google | github | kakao | naver
char* set_provider(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* scf = static_cast<SrvConf*>(conf);
    if (scf->provider.data != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    return conf_boundary(cf, [&]() -> char* {
        const ngx_str_t arg = static_cast<ngx_str_t*>(cf->args->elts)[1];
        if (spotauth::find_provider(to_view(arg)) == nullptr) {
            return conf_error(cf, "spotauth: unknown spotauth_provider \"" + to_string(arg) +
                                      "\"; the known ones are " + spotauth::provider_names());
        }
        scf->provider = arg;  // in the configuration's pool
        return NGX_CONF_OK;
    });
}

// spotauth_client_auth basic | post
char* set_client_auth(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* scf = static_cast<SrvConf*>(conf);
    if (scf->client_auth != NGX_CONF_UNSET_UINT) {
        return const_cast<char*>("is duplicate");
    }
    const ngx_str_t arg = static_cast<ngx_str_t*>(cf->args->elts)[1];
    const auto auth = spotauth::parse_client_auth(to_view(arg));
    if (!auth) {
        return conf_boundary(cf, [&] {
            return conf_error(cf,
                              "spotauth: spotauth_client_auth \"" + to_string(arg) +
                                  "\" is neither \"basic\" "
                                  "(an Authorization header) nor \"post\" (client_id and client_secret in the body)");
        });
    }
    scf->client_auth = static_cast<ngx_uint_t>(*auth);
    return NGX_CONF_OK;
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
        return const_cast<char*>(
            "takes two positive numbers of code exchanges per minute: per client "
            "address and per worker, for example \"spotauth_exchange_limit 20 600\"");
    }
    mcf->exchange_limits = {static_cast<std::uint32_t>(per_address), static_cast<std::uint32_t>(in_total)};
    mcf->exchange_limits_set = 1;
    return NGX_CONF_OK;
}

char* add_key_file(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* scf = static_cast<SrvConf*>(conf);
    if (scf->key_files == NGX_CONF_UNSET_PTR) {
        scf->key_files = ngx_array_create(cf->pool, 2, sizeof(KeyFile));
        if (scf->key_files == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    auto* file = static_cast<KeyFile*>(ngx_array_push(scf->key_files));
    if (file == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    *file = {static_cast<ngx_str_t*>(cf->args->elts)[1], {}};
    remember_place(cf, file->place);
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
        const spotauth::ConfigFile file = read_config_file(cf, path);
        const std::string prefix = "spotauth: spotauth_allow_users \"" + file.path + "\" ";
        if (!file.text) {
            return conf_error(cf, prefix + file.text.error());
        }
        auto list = spotauth::UserAllowlist::parse(*file.text);
        if (!list) {
            return conf_error(cf, prefix + list.error());
        }
        if (list->size() == 0) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "%s",
                               (prefix + "lists nobody: every signed-in user is "
                                         "refused")
                                   .c_str());
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
                return const_cast<char*>(
                    "takes Spotify products as /v1/me names them, for example "
                    "\"spotauth_require_product premium\", or \"off\"");
            }
            products.push_back(product);
        }
        lcf->products = pool_new<std::vector<std::string>>(cf->pool, std::move(products));
        return lcf->products != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
    });
}

// spotauth_error_template path: read and parsed now (and on every reload);
// a placeholder the module does not know stops the configuration.
char* set_error_template(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<LocConf*>(conf);
    if (lcf->error_template != NGX_CONF_UNSET_PTR) {
        return const_cast<char*>("is duplicate");
    }
    const ngx_str_t path = static_cast<ngx_str_t*>(cf->args->elts)[1];
    return conf_boundary(cf, [&]() -> char* {
        const spotauth::ConfigFile file = read_config_file(cf, path);
        const std::string prefix = "spotauth: spotauth_error_template \"" + file.path + "\" ";
        if (!file.text) {
            return conf_error(cf, prefix + file.text.error());
        }
        auto page = spotauth::PageTemplate::parse(*file.text);
        if (!page) {
            return conf_error(cf, prefix + page.error());
        }
        lcf->error_template = pool_new<spotauth::PageTemplate>(cf->pool, std::move(*page));
        return lcf->error_template != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
    });
}

// `spotauth on | off | redirect | retry`, in the order nginx -t lists them:
// off, or the spotauth::ProtectMode it names (protect_value).
ngx_conf_enum_t protect_modes[] = {{ngx_string("on"), protect_value(spotauth::ProtectMode::on)},
                                   {ngx_string("off"), kProtectOff},
                                   {ngx_string("redirect"), protect_value(spotauth::ProtectMode::redirect)},
                                   {ngx_string("retry"), protect_value(spotauth::ProtectMode::retry)},
                                   {ngx_null_string, 0}};

constexpr ngx_uint_t kMainOrSrv = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF;
constexpr ngx_uint_t kAnyLevel = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

#define SPOTAUTH_SRV_SLOT(directive, setter, field)                                           \
    {                                                                                         \
        ngx_string(directive), kMainOrSrv | NGX_CONF_TAKE1, setter, NGX_HTTP_SRV_CONF_OFFSET, \
            offsetof(SrvConf, field), nullptr                                                 \
    }

// A string whose place check_settings' messages point at.
#define SPOTAUTH_PLACED_STR(directive, field, id) \
    SPOTAUTH_SRV_SLOT(directive, (set_placed<ngx_conf_set_str_slot, spotauth::Directive::id>), field)

}  // namespace

ngx_command_t commands[] = {
    {ngx_string("spotauth_provider"), kMainOrSrv | NGX_CONF_TAKE1, set_provider, NGX_HTTP_SRV_CONF_OFFSET, 0, nullptr},
    {ngx_string("spotauth_client_auth"), kMainOrSrv | NGX_CONF_TAKE1, set_client_auth, NGX_HTTP_SRV_CONF_OFFSET, 0,
     nullptr},
    SPOTAUTH_PLACED_STR("spotauth_client_id", client_id, client_id),
    SPOTAUTH_PLACED_STR("spotauth_client_secret_file", client_secret_file, client_secret_file),
    SPOTAUTH_SRV_SLOT("spotauth_key_file", add_key_file, key_files),
    SPOTAUTH_PLACED_STR("spotauth_redirect_uri", redirect_uri, redirect_uri),
    SPOTAUTH_SRV_SLOT("spotauth_scopes", ngx_conf_set_str_slot, scopes),
    SPOTAUTH_PLACED_STR("spotauth_authorize_url", authorize_url, authorize_url),
    SPOTAUTH_PLACED_STR("spotauth_token_url", token_url, token_url),
    SPOTAUTH_PLACED_STR("spotauth_api_url", api_url, api_url),
    SPOTAUTH_PLACED_STR("spotauth_profile_url", profile_url, profile_url),
    {ngx_string("spotauth_profile_claims"), kMainOrSrv | NGX_CONF_TAKE12, set_profile_claims, NGX_HTTP_SRV_CONF_OFFSET,
     0, nullptr},
    SPOTAUTH_SRV_SLOT("spotauth_ca_file", ngx_conf_set_str_slot, ca_file),
    {ngx_string("spotauth_cookie_secure"), kMainOrSrv | NGX_CONF_FLAG, ngx_conf_set_flag_slot, NGX_HTTP_SRV_CONF_OFFSET,
     offsetof(SrvConf, cookie_secure), nullptr},
    SPOTAUTH_SRV_SLOT("spotauth_connect_timeout", ngx_conf_set_msec_slot, connect_timeout),
    SPOTAUTH_SRV_SLOT("spotauth_timeout", ngx_conf_set_msec_slot, timeout),
    SPOTAUTH_SRV_SLOT("spotauth_session_lifetime", ngx_conf_set_sec_slot, session_lifetime),
    {ngx_string("spotauth"), kAnyLevel | NGX_CONF_TAKE1, set_protect, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, protect), protect_modes},
    {ngx_string("spotauth_allow_users"), kAnyLevel | NGX_CONF_TAKE1, set_allow_users, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},
    {ngx_string("spotauth_error_template"), kAnyLevel | NGX_CONF_TAKE1, set_error_template, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},
    {ngx_string("spotauth_require_product"), kAnyLevel | NGX_CONF_1MORE, set_require_product, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},
    {ngx_string("spotauth_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, set_zone, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("spotauth_refresh_leeway"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, refresh_leeway), nullptr},
    {ngx_string("spotauth_refresh_cache"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, refresh_cache), nullptr},
    {ngx_string("spotauth_exchange_limit"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE2, set_exchange_limit,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("spotauth_redis"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, set_main_placed<&MainConf::redis_place>,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, redis_url), nullptr},
    {ngx_string("spotauth_redis_password_file"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     set_main_placed<&MainConf::redis_password_place>, NGX_HTTP_MAIN_CONF_OFFSET,
     offsetof(MainConf, redis_password_file), nullptr},
    {ngx_string("spotauth_login"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_login, 0, 0, nullptr},
    {ngx_string("spotauth_callback"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_callback, 0, 0, nullptr},
    {ngx_string("spotauth_session"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_session, 0, 0, nullptr},
    {ngx_string("spotauth_token"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_token, 0, 0, nullptr},
    {ngx_string("spotauth_logout"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_logout, 0, 0, nullptr},
    {ngx_string("spotauth_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_status, 0, 0, nullptr},
    {ngx_string("spotauth_health"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_health, 0, 0, nullptr},
    ngx_null_command};

#undef SPOTAUTH_PLACED_STR
#undef SPOTAUTH_SRV_SLOT

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
