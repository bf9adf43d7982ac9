// What the session unit tests share: a key ring, a moment, and a session
// that moment finds valid, with every field set.
#pragma once

#include "spotauth/session.hpp"

#include <string>

namespace spotauth::test {

inline constexpr UnixTime kNow = 1'700'000'100;  // inside sample_session()'s lifetime

inline const KeyRing& test_ring() {
    static const KeyRing ring({make_key(std::string(32, 's'))});
    return ring;
}

inline Session sample_session() {
    Session s;
    s.user_id = "alice";
    s.display_name = "Alice \"Ally\" Liddell \xc3\xa9";
    s.product = "premium";
    s.country = "SE";
    s.access_token = "BQ-access";
    s.refresh_token = "AQ-refresh";
    s.access_expires_at = 1'700'003'600;
    s.access_issued_at = 1'700'000'000;
    s.issued_at = 1'700'000'000;
    s.expires_at = 1'702'592'000;
    return s;
}

}  // namespace spotauth::test
