// What changed in nginx's module API between 1.22 and mainline, in one
// place: every version check of the module is here, nowhere else.
#pragma once

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

// 1.23.0 linked same-named header lines with ngx_table_elt_t.next and
// replaced the headers_in.cookies array with the headers_in.cookie list.
#define SPOTAUTH_NGX_LINKED_HEADERS (nginx_version >= 1023000)

namespace spotauth_ngx {

// Calls `visit(line)` for each Cookie header line of the request, in order.
template <typename Visit>
void for_each_cookie_line(ngx_http_request_t* r, Visit&& visit) {
#if SPOTAUTH_NGX_LINKED_HEADERS
    for (ngx_table_elt_t* h = r->headers_in.cookie; h != nullptr; h = h->next) {
        visit(h);
    }
#else
    auto** lines = static_cast<ngx_table_elt_t**>(r->headers_in.cookies.elts);
    for (ngx_uint_t i = 0; i < r->headers_in.cookies.nelts; ++i) {
        visit(lines[i]);
    }
#endif
}

// A header line the module adds stands alone (nginx's own modules clear
// `next` the same way on every line they add).
inline void unlink_header(ngx_table_elt_t* h) {
#if SPOTAUTH_NGX_LINKED_HEADERS
    h->next = nullptr;
#else
    (void)h;
#endif
}

}  // namespace spotauth_ngx
