// Configuration: the conf structures' create/merge, the directive setters
// (ngx_spotauth_directives.cpp), and loading a server's settings (files read
// here, checked by the core).
#pragma once

#include "ngx_spotauth_module.hpp"

#include "spotauth/settings.hpp"

#include <string>

namespace spotauth_ngx {

void* create_main_conf(ngx_conf_t* cf) noexcept;
char* init_main_conf(ngx_conf_t* cf, void* conf) noexcept;
void* create_srv_conf(ngx_conf_t* cf) noexcept;
char* merge_srv_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;
void* create_loc_conf(ngx_conf_t* cf) noexcept;
char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;

// Directive setters.
char* set_login(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_callback(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_session(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_token(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_logout(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_status(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_health(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_profile_claims(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_provider(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_client_auth(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_protect(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_zone(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_exchange_limit(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* add_key_file(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_allow_users(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_require_product(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_error_template(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;

// The values of `spotauth on | off | redirect | retry`.
extern ngx_conf_enum_t protect_modes[];

// Records where the directive being parsed is (file and line).
void remember_place(ngx_conf_t* cf, ConfPlace& place) noexcept;

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

// Postconfiguration: the default zone when the module is used without
// spotauth_zone.
ngx_int_t ensure_zone(ngx_conf_t* cf) noexcept;

// Postconfiguration: how each server's locations use spotauth (an API
// location without a content handler or without the replay of a 401),
// as spotauth::check_protected_locations judges it; warnings with the
// file and line of each location's `spotauth` directive.
ngx_int_t check_locations(ngx_conf_t* cf) noexcept;

// --- shared by the configuration rooms ---------------------------------------

// An [emerg] message about the directive being parsed; NGX_CONF_ERROR.
char* conf_error(ngx_conf_t* cf, const std::string& message);

// A file a directive names, relative to nginx's prefix: its text and its
// path as resolved (for messages), or why it cannot be read.
spotauth::ConfigFile read_config_file(ngx_conf_t* cf, const ngx_str_t& name);

SrvConf* enclosing_srv_conf(ngx_conf_t* cf);
MainConf* enclosing_main_conf(ngx_conf_t* cf);

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

}  // namespace spotauth_ngx
