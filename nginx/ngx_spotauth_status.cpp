// spotauth_status: the Prometheus text of the shared zone's counters and
// of the build that runs (spotauth_build_info).
#include "ngx_spotauth_endpoints.hpp"

#include "ngx_spotauth_reply.hpp"
#include "ngx_spotauth_worker.hpp"

#include "spotauth/metrics.hpp"
#include "spotauth/version.hpp"

namespace spotauth_ngx {

ngx_int_t status_endpoint(ngx_http_request_t* r) {
    Worker* w = worker();
    if (w == nullptr) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    return send_body(r, NGX_HTTP_OK, "text/plain; version=0.0.4",
                     spotauth::build_info_metric(NGINX_VERSION) + spotauth::prometheus_text(w->counters().snapshot()));
}

}  // namespace spotauth_ngx
