// $spotauth_user, $spotauth_user_name, $spotauth_user_product,
// $spotauth_user_country, $spotauth_session_status and $spotauth_access_token.
#pragma once

#include "ngx_spotauth_module.hpp"

namespace spotauth_ngx {

// Registers the variables (preconfiguration).
ngx_int_t add_variables(ngx_conf_t* cf);

}  // namespace spotauth_ngx
