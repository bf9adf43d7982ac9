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

}  // namespace spotauth_ngx
