// The spotauth nginx module: its directives, its configuration hooks and
// its process hooks. Each concern of the glue has its room in nginx/
// (configuration, event loop, shared zone, worker, replies, request state,
// protected locations, login, frontend endpoints, status, variables); all
// decisions live in the core (include/spotauth, src/), which never sees
// nginx.

#include "ngx_spotauth_access.hpp"
#include "ngx_spotauth_config.hpp"
#include "ngx_spotauth_module.hpp"
#include "ngx_spotauth_variables.hpp"
#include "ngx_spotauth_worker.hpp"

namespace spotauth_ngx {
namespace {

constexpr ngx_uint_t kMainOrSrv = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF;
constexpr ngx_uint_t kAnyLevel = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

#define SPOTAUTH_SRV_SLOT(directive, setter, field) \
    {ngx_string(directive), kMainOrSrv | NGX_CONF_TAKE1, setter, NGX_HTTP_SRV_CONF_OFFSET, offsetof(SrvConf, field), nullptr}

// A string whose place check_settings' messages point at.
#define SPOTAUTH_PLACED_STR(directive, field, id) \
    SPOTAUTH_SRV_SLOT(directive, (set_placed<ngx_conf_set_str_slot, spotauth::Directive::id>), field)

ngx_command_t commands[] = {
    {ngx_string("spotauth_provider"), kMainOrSrv | NGX_CONF_TAKE1, set_provider, NGX_HTTP_SRV_CONF_OFFSET, 0,
     nullptr},
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
    {ngx_string("spotauth_profile_claims"), kMainOrSrv | NGX_CONF_TAKE12, set_profile_claims,
     NGX_HTTP_SRV_CONF_OFFSET, 0, nullptr},
    SPOTAUTH_SRV_SLOT("spotauth_ca_file", ngx_conf_set_str_slot, ca_file),
    {ngx_string("spotauth_cookie_secure"), kMainOrSrv | NGX_CONF_FLAG, ngx_conf_set_flag_slot,
     NGX_HTTP_SRV_CONF_OFFSET, offsetof(SrvConf, cookie_secure), nullptr},
    SPOTAUTH_SRV_SLOT("spotauth_connect_timeout", ngx_conf_set_msec_slot, connect_timeout),
    SPOTAUTH_SRV_SLOT("spotauth_timeout", ngx_conf_set_msec_slot, timeout),
    SPOTAUTH_SRV_SLOT("spotauth_session_lifetime", ngx_conf_set_sec_slot, session_lifetime),
    {ngx_string("spotauth"), kAnyLevel | NGX_CONF_TAKE1, set_protect, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(LocConf, protect), protect_modes},
    {ngx_string("spotauth_allow_users"), kAnyLevel | NGX_CONF_TAKE1, set_allow_users, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},
    {ngx_string("spotauth_error_template"), kAnyLevel | NGX_CONF_TAKE1, set_error_template, NGX_HTTP_LOC_CONF_OFFSET,
     0, nullptr},
    {ngx_string("spotauth_require_product"), kAnyLevel | NGX_CONF_1MORE, set_require_product,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("spotauth_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, set_zone, NGX_HTTP_MAIN_CONF_OFFSET, 0,
     nullptr},
    {ngx_string("spotauth_refresh_leeway"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, refresh_leeway), nullptr},
    {ngx_string("spotauth_refresh_cache"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, refresh_cache), nullptr},
    {ngx_string("spotauth_exchange_limit"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE2, set_exchange_limit,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("spotauth_redis"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, set_main_placed<&MainConf::redis_place>,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, redis_url), nullptr},
    {ngx_string("spotauth_redis_password_file"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, set_main_placed<&MainConf::redis_password_place>,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(MainConf, redis_password_file), nullptr},
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

ngx_int_t preconfiguration(ngx_conf_t* cf) noexcept { return add_variables(cf); }

ngx_int_t postconfiguration(ngx_conf_t* cf) noexcept {
    if (ensure_zone(cf) != NGX_OK || check_locations(cf) != NGX_OK) {
        return NGX_ERROR;
    }
    install_header_filter();
    auto* cmcf = static_cast<ngx_http_core_main_conf_t*>(ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto* h = static_cast<ngx_http_handler_pt*>(ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    *h = access_handler;
    return NGX_OK;
}

ngx_int_t init_process(ngx_cycle_t* cycle) noexcept { return start_worker(cycle); }

void exit_process(ngx_cycle_t*) noexcept { stop_worker(); }

ngx_http_module_t module_ctx = {
    preconfiguration,   // preconfiguration
    postconfiguration,  // postconfiguration
    create_main_conf,   // create main configuration
    init_main_conf,     // init main configuration
    create_srv_conf,    // create server configuration
    merge_srv_conf,     // merge server configuration
    create_loc_conf,    // create location configuration
    merge_loc_conf      // merge location configuration
};

}  // namespace
}  // namespace spotauth_ngx

extern "C" {
ngx_module_t ngx_http_spotauth_module = {
    NGX_MODULE_V1,
    &spotauth_ngx::module_ctx,  // module context
    spotauth_ngx::commands,     // module directives
    NGX_HTTP_MODULE,            // module type
    nullptr,                    // init master
    nullptr,                    // init module
    spotauth_ngx::init_process, // init process
    nullptr,                    // init thread
    nullptr,                    // exit thread
    spotauth_ngx::exit_process, // exit process
    nullptr,                    // exit master
    NGX_MODULE_V1_PADDING};
}
