// Protected locations (`spotauth on | redirect | retry`): the access-phase
// handler that carries out the core's access decision, and the header
// filter that puts a refreshed session cookie on the upstream's answer.
#pragma once

#include "ngx_spotauth_module.hpp"

namespace spotauth_ngx {

ngx_int_t access_handler(ngx_http_request_t* r) noexcept;

// Installs the header filter (postconfiguration).
void install_header_filter();

}  // namespace spotauth_ngx
