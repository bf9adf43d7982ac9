// spotauth_health: whether this server can sign users in and keep their
// sessions, for load balancers and orchestrators (the core decides the answer).
#include "ngx_spotauth_endpoints.hpp"

#include "ngx_spotauth_reply.hpp"
#include "ngx_spotauth_worker.hpp"
#include "ngx_spotauth_zone.hpp"

#include "spotauth/health.hpp"

namespace spotauth_ngx {

ngx_int_t health_endpoint(ngx_http_request_t* r) {
    spotauth::HealthChecks checks;
    checks.keys = settings_of(r) != nullptr;
    // Without a worker (a process that does not serve) nothing uses the zone.
    checks.zone = worker() != nullptr && zone_responds(main_conf_of(r)->zone);
    if (main_conf_of(r)->redis != nullptr) {
        checks.redis = worker() != nullptr && worker()->fleet_connected();
        checks.redis_refusing = worker() != nullptr && worker()->fleet_refusing();
    }
    const spotauth::HealthReport report = spotauth::health_report(checks);
    return send_json(r, static_cast<ngx_uint_t>(report.status), report.body);
}

}  // namespace spotauth_ngx
