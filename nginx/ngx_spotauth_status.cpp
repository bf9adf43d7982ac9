// spotauth_status: the Prometheus text of the shared zone's counters.
#include "ngx_spotauth_endpoints.hpp"

#include "ngx_spotauth_reply.hpp"
#include "ngx_spotauth_worker.hpp"

#include "spotauth/metrics.hpp"

namespace spotauth_ngx {

ngx_int_t status_endpoint(ngx_http_request_t* r) {
    Worker* w = worker();
    if (w == nullptr) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    return send_body(r, NGX_HTTP_OK, "text/plain; version=0.0.4", spotauth::prometheus_text(w->counters().snapshot()));
}

ngx_int_t status_handler(ngx_http_request_t* r) noexcept {
    if ((r->method & kGetOrHead) == 0) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return c_boundary(r->connection->log, "the status endpoint", NGX_HTTP_INTERNAL_SERVER_ERROR,
                      [r] { return status_endpoint(r); });
}

}  // namespace spotauth_ngx
