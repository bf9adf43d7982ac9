// The health endpoint's answer (spotauth_health), for load balancers and
// orchestrators: can this server sign users in and keep their sessions?
#pragma once

#include <string>

namespace spotauth {

// What the glue found: the server's settings (its session keys) are loaded,
// and the shared zone answers (its lock taken and released).
struct HealthChecks {
    bool keys = false;
    bool zone = false;
};

struct HealthReport {
    int status = 503;
    std::string body;  // JSON
};

// 200 {"status":"ok","checks":{"keys":"ok","zone":"ok"}} when every check
// passes; otherwise 503 {"status":"unavailable","reason":<first failing
// check's reason>,"checks":{...}}. (A later "degraded" state answers 200
// with the same shape.)
HealthReport health_report(const HealthChecks& checks);

}  // namespace spotauth
