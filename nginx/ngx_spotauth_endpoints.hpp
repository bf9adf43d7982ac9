// The module's content handlers and what every one of them does first.
#pragma once

#include "ngx_spotauth_module.hpp"
#include "ngx_spotauth_reply.hpp"

#include "spotauth/errors.hpp"
#include "spotauth/responses.hpp"

namespace spotauth_ngx {

// ngx_spotauth_login.cpp
ngx_int_t login_endpoint(ngx_http_request_t* r, const Settings& s);
ngx_int_t callback_endpoint(ngx_http_request_t* r, const Settings& s);

// ngx_spotauth_frontend.cpp
ngx_int_t session_endpoint(ngx_http_request_t* r, const Settings& s);
ngx_int_t token_endpoint(ngx_http_request_t* r, const Settings& s);
ngx_int_t logout_endpoint(ngx_http_request_t* r, const Settings& s);

// ngx_spotauth_status.cpp and ngx_spotauth_health.cpp (health reads the
// settings if the server has them; neither needs them)
ngx_int_t status_endpoint(ngx_http_request_t* r);
ngx_int_t health_endpoint(ngx_http_request_t* r);

constexpr ngx_uint_t kGetOrHead = NGX_HTTP_GET | NGX_HTTP_HEAD;

// What every handler does first: refuse other methods and drop any body.
// 0 when the request may go on, else the status to answer.
inline ngx_int_t admit_request(ngx_http_request_t* r, ngx_uint_t methods) {
    if ((r->method & methods) == 0) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    return ngx_http_discard_request_body(r) == NGX_OK ? 0 : NGX_HTTP_INTERNAL_SERVER_ERROR;
}

// A method the endpoint does not take: the error table's 405 with Allow
// (a page or JSON, as for any other refusal), not nginx's stock page.
inline ngx_int_t refuse_method(ngx_http_request_t* r, const Settings& s, ngx_uint_t methods) {
    if (ngx_http_discard_request_body(r) != NGX_OK ||
        !add_response_header(r, "Allow", methods == NGX_HTTP_POST ? "POST" : "GET, HEAD")) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_error(r, s, spotauth::Failure::method_not_allowed);
}

// What nginx calls for an endpoint of a server with OAuth settings; every
// exception stays on this side of the C boundary.
template <ngx_int_t (*Endpoint)(ngx_http_request_t*, const Settings&), ngx_uint_t Methods = kGetOrHead>
ngx_int_t endpoint_handler(ngx_http_request_t* r) noexcept {
    const Settings* s = settings_of(r);
    if (s == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return c_boundary(r->connection->log, "a spotauth endpoint", NGX_HTTP_INTERNAL_SERVER_ERROR, [&] {
        if ((r->method & Methods) == 0) {
            return refuse_method(r, *s, Methods);
        }
        const ngx_int_t refused = admit_request(r, Methods);
        return refused != 0 ? refused : Endpoint(r, *s);
    });
}

// The same for the endpoints that read no settings (status, health): they
// answer programs, so a wrong method gets the 405 as JSON.
template <ngx_int_t (*Endpoint)(ngx_http_request_t*)>
ngx_int_t plain_endpoint_handler(ngx_http_request_t* r) noexcept {
    return c_boundary(r->connection->log, "a spotauth endpoint", NGX_HTTP_INTERNAL_SERVER_ERROR, [r] {
        if ((r->method & kGetOrHead) == 0) {
            const spotauth::ErrorReply e = spotauth::error_reply(spotauth::Failure::method_not_allowed);
            if (ngx_http_discard_request_body(r) != NGX_OK || !add_response_header(r, "Allow", "GET, HEAD")) {
                return static_cast<ngx_int_t>(NGX_HTTP_INTERNAL_SERVER_ERROR);
            }
            return send_json(r, static_cast<ngx_uint_t>(e.status), spotauth::error_json(e.code, e.description));
        }
        const ngx_int_t refused = admit_request(r, kGetOrHead);
        return refused != 0 ? refused : Endpoint(r);
    });
}

}  // namespace spotauth_ngx
