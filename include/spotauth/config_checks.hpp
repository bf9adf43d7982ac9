// Checks of how a server's locations use spotauth, which no single
// directive can see: mistakes `nginx -t` would otherwise pass and that
// silently break the product (an API location that answers from disk, a
// refresh-and-replay that never happens, a refresh on every request, a
// callback no server_name leads to). The glue gathers the facts from
// nginx's structures; the decisions and their messages live here.
#pragma once

#include "spotauth/access.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace spotauth {

// A location of one server that has `spotauth on|redirect|retry` itself
// (not inherited from the server or http block).
struct ProtectedLocation {
    std::string name;  // as written after `location`: "/api/spotify/", "@spotify_replay"
    ProtectMode mode = ProtectMode::on;
    bool named = false;                // location @name
    bool has_content_handler = false;  // proxy_pass, fastcgi_pass, grpc_pass, a module's handler...
    // Where `error_page 401` sends a request of this location (set here or
    // inherited), when its target is a fixed text; nullopt: no error_page
    // for 401.
    std::optional<std::string> error_401_target;
    bool error_401_dynamic = false;  // the target holds variables: not checked
};

// A warning about one of the checked locations (a location that answers
// with `return` may have no content handler on purpose, so none of these
// stops nginx).
struct LocationMessage {
    std::size_t location = 0;  // index into the checked locations
    std::string text;
};

// "spotauth on|retry" with no content handler, and an API location whose
// 401 does not reach a named location with "spotauth retry" (`locations`:
// every protected location of one server, named ones included;
// `named_locations`: the names of all the server's named locations, "@x").
std::vector<LocationMessage> check_protected_locations(const std::vector<ProtectedLocation>& locations,
                                                       const std::vector<std::string>& named_locations);

// `spotauth retry` anywhere but directly in a named location: the error
// message, or nullopt where it is allowed.
std::optional<std::string> retry_placement_problem(bool in_named_location);

// Whether a host a URL names reaches a server with these server_name
// values (as nginx keeps them: lower case, "" for none, "~..." for a
// regex, "*.x", "x.*" and ".x" wildcards). True when it cannot be told (a
// regex, or a server without a host name of its own).
bool server_names_accept(const std::vector<std::string>& server_names, const std::string& host);

}  // namespace spotauth
