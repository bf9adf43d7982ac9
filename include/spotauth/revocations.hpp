// What a logout means on a machine, and what it means when the machine
// cannot remember every logout. A logout revokes its session's id until
// the session would have ended anyway. A store with no room left for a
// revocation must not forget one (the cookie it revoked would open again):
// it raises a floor instead, "every session that began before this time is
// refused", high enough to cover the revocation it lets go. Those sessions
// sign in again: the store fails closed, never open.
#pragma once

#include "spotauth/session.hpp"

#include <optional>

namespace spotauth {

// Whether a session is refused: logged out (`revoked_until`: its id's
// revocation, if any, is still in force at `now`) or begun before `floor`.
bool session_refused(const Session& session, UnixTime floor, std::optional<UnixTime> revoked_until, UnixTime now);

// The floor after letting go of the revocation of a session that began at
// `session_start`: that session, and every one that began no later, is
// refused from now on.
UnixTime floor_covering(UnixTime floor, UnixTime session_start);

// Whether the floor already refuses a session that began at
// `session_start`, so that its revocation need not be kept.
bool floor_covers(UnixTime floor, UnixTime session_start);

// When a store may forget a revocation: once the session it revoked has
// ended anyway, or the floor covers it.
bool revocation_needed(UnixTime floor, UnixTime session_start, UnixTime until, UnixTime now);

}  // namespace spotauth
