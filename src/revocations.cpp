// Revocations and the not-before floor (see revocations.hpp).
#include "spotauth/revocations.hpp"

#include <algorithm>

namespace spotauth {

bool floor_covers(UnixTime floor, UnixTime session_start) { return session_start < floor; }

UnixTime floor_covering(UnixTime floor, UnixTime session_start) { return std::max(floor, session_start + 1); }

bool session_refused(const Session& session, UnixTime floor, std::optional<UnixTime> revoked_until, UnixTime now) {
    if (session.sid.empty()) {
        return false;  // sealed before sessions had ids: nothing can name it
    }
    return floor_covers(floor, session.issued_at) || (revoked_until && *revoked_until > now);
}

bool revocation_needed(UnixTime floor, UnixTime session_start, UnixTime until, UnixTime now) {
    return until > now && !floor_covers(floor, session_start);
}

}  // namespace spotauth
