// Configuration: the conf structures' create/merge, the directives and
// their setters (ngx_spotauth_directives.cpp), and loading a server's
// settings (files read here, checked by the core).
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

// The module's directives (ngx_spotauth_directives.cpp, beside their setters).
extern ngx_command_t commands[];

// Records where the directive being parsed is (file and line).
void remember_place(ngx_conf_t* cf, ConfPlace& place) noexcept;

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
