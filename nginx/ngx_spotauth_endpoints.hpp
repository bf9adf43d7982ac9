// The module's content handlers and what every one of them does first.
#pragma once

#include "ngx_spotauth_module.hpp"

namespace spotauth_ngx {

// ngx_spotauth_login.cpp
ngx_int_t login_endpoint(ngx_http_request_t* r, const Settings& s);
ngx_int_t callback_endpoint(ngx_http_request_t* r, const Settings& s);

// ngx_spotauth_frontend.cpp
ngx_int_t session_endpoint(ngx_http_request_t* r, const Settings& s);
ngx_int_t token_endpoint(ngx_http_request_t* r, const Settings& s);
ngx_int_t logout_endpoint(ngx_http_request_t* r, const Settings& s);

// ngx_spotauth_status.cpp (needs no OAuth settings)
ngx_int_t status_endpoint(ngx_http_request_t* r);

constexpr ngx_uint_t kGetOrHead = NGX_HTTP_GET | NGX_HTTP_HEAD;

// What nginx calls: refuse other methods, drop any body, and keep every
// exception on this side of the C boundary.
template <ngx_int_t (*Endpoint)(ngx_http_request_t*, const Settings&), ngx_uint_t Methods = kGetOrHead>
ngx_int_t endpoint_handler(ngx_http_request_t* r) noexcept {
    if ((r->method & Methods) == 0) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const Settings* s = settings_of(r);
    if (s == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return c_boundary(r->connection->log, "a spotauth endpoint", NGX_HTTP_INTERNAL_SERVER_ERROR,
                      [&] { return Endpoint(r, *s); });
}

ngx_int_t status_handler(ngx_http_request_t* r) noexcept;

// ngx_spotauth_health.cpp
ngx_int_t health_handler(ngx_http_request_t* r) noexcept;

}  // namespace spotauth_ngx
