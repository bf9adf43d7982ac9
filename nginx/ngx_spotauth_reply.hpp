// Everything the module sends: bodies, error answers from the core's error
// table, redirects, Set-Cookie and other response headers, and the end of
// a request that was parked.
#pragma once

#include "ngx_spotauth_module.hpp"

#include "spotauth/errors.hpp"

#include <string_view>

namespace spotauth_ngx {

// False when out of memory.
bool add_response_header(ngx_http_request_t* r, std::string_view name, std::string_view value);

// Adds a Set-Cookie that clears one of the module's cookies; false when out of memory.
bool clear_cookie(ngx_http_request_t* r, const Settings& s, std::string_view name);

ngx_int_t send_body(ngx_http_request_t* r, ngx_uint_t status, std::string_view content_type, std::string_view body);
ngx_int_t send_json(ngx_http_request_t* r, ngx_uint_t status, std::string_view body);

// The error table's answer: JSON for programs, the location's page
// template (spotauth_error_template, or the built-in page) for a person
// whose browser navigated here; the session cookie cleared and the Bearer
// challenge added where the table says so. `return_to` is the same-site
// path the page's login link comes back to (empty: the site's root).
ngx_int_t send_error(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure,
                     std::string_view return_to = {});
ngx_int_t send_error_json(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure);
ngx_int_t send_error_page(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure,
                          std::string_view return_to = {});

// For the Web Playback SDK's endpoint: {"access_token":null,"error":code}.
ngx_int_t send_token_error(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure);

ngx_int_t send_redirect(ngx_http_request_t* r, std::string_view location);

// The access phase cannot return a body of its own: the answer already
// went out with status `rc`; finalize and tell the phase engine.
ngx_int_t answered_in_access_phase(ngx_http_request_t* r, ngx_int_t rc);

// Ends a request that was parked with r->main->count++ / NGX_DONE.
void finish_parked(ngx_http_request_t* r, ngx_int_t rc);

}  // namespace spotauth_ngx
