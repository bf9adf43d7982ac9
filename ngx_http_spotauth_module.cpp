// The spotauth nginx module: its definition and its configuration and
// process hooks; its directives are in nginx/ngx_spotauth_directives.cpp,
// beside their setters. Each concern of the glue has its room in nginx/
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
ngx_module_t ngx_http_spotauth_module = {NGX_MODULE_V1,
                                         &spotauth_ngx::module_ctx,   // module context
                                         spotauth_ngx::commands,      // module directives
                                         NGX_HTTP_MODULE,             // module type
                                         nullptr,                     // init master
                                         nullptr,                     // init module
                                         spotauth_ngx::init_process,  // init process
                                         nullptr,                     // init thread
                                         nullptr,                     // exit thread
                                         spotauth_ngx::exit_process,  // exit process
                                         nullptr,                     // exit master
                                         NGX_MODULE_V1_PADDING};
}
