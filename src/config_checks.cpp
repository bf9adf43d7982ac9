// Checks of how a server's locations use spotauth (see config_checks.hpp).
#include "spotauth/config_checks.hpp"

#include <algorithm>

namespace spotauth {
namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string directive_of(ProtectMode mode) { return mode == ProtectMode::retry ? "spotauth retry" : "spotauth on"; }

// A request that passes the module goes on to the location's content: with
// no handler that is the static files under root, not the API.
LocationMessage no_content_handler(std::size_t index, const ProtectedLocation& l) {
    return {index, "spotauth: \"" + directive_of(l.mode) + "\" in location " + quoted(l.name) +
                       " has no content handler such as proxy_pass: a signed-in request is answered from root "
                       "(usually 404), not by the API. Add the API's proxy_pass to this location, or use "
                       "\"spotauth redirect\" for pages the site serves itself"};
}

const ProtectedLocation* find_named(const std::vector<ProtectedLocation>& locations, const std::string& name) {
    const auto it = std::find_if(locations.begin(), locations.end(),
                                 [&](const ProtectedLocation& l) { return l.named && l.name == name; });
    return it != locations.end() ? &*it : nullptr;
}

constexpr const char* kReplayRecipe =
    "add \"proxy_intercept_errors on; error_page 401 = @spotify_replay;\" to it and "
    "\"location @spotify_replay { spotauth retry; ... }\" with the same proxy_pass";

// Spotify may refuse a token before its announced expiry; only a named
// location with `spotauth retry` refreshes it and replays the request.
std::optional<LocationMessage> replay_problem(std::size_t index, const ProtectedLocation& l,
                                              const std::vector<ProtectedLocation>& locations,
                                              const std::vector<std::string>& named_locations) {
    if (l.error_401_dynamic) {
        return std::nullopt;
    }
    const std::string head = "spotauth: location " + quoted(l.name) + " has \"spotauth on\" ";
    if (!l.error_401_target) {
        return LocationMessage{index, head +
                                          "but no \"error_page 401\" to a named location with \"spotauth retry\": "
                                          "when the API refuses a token before its announced expiry, nothing "
                                          "refreshes it and the 401 reaches the page, which sends the user to sign "
                                          "in again. To refresh and replay once, " +
                                          kReplayRecipe};
    }
    const std::string& target = *l.error_401_target;
    const ProtectedLocation* replay = find_named(locations, target);
    if (replay != nullptr && replay->mode == ProtectMode::retry) {
        return std::nullopt;
    }
    const bool named = std::find(named_locations.begin(), named_locations.end(), target) != named_locations.end();
    const std::string why = named || replay != nullptr  ? "has no \"spotauth retry\""
                            : target.rfind('@', 0) == 0 ? "is not a named location of this server"
                                                        : "is not a named location (location @name)";
    return LocationMessage{index, head + "and its \"error_page 401\" goes to " + quoted(target) + ", which " + why +
                                      ": the token is never refreshed and the request never replayed. Point "
                                      "\"error_page 401 =\" at \"location @spotify_replay { spotauth retry; ... }\" "
                                      "with the same proxy_pass"};
}

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// nginx's server_name forms: "*.example.org" (any subdomain),
// "www.example.*" (any last part), ".example.org" (the name and its
// subdomains), an exact name.
bool server_name_matches(const std::string& name, const std::string& host) {
    if (name.rfind("*.", 0) == 0) {
        return host.size() > name.size() - 1 && ends_with(host, name.substr(1));
    }
    if (name.size() > 2 && ends_with(name, ".*")) {
        const std::string head = name.substr(0, name.size() - 1);  // "www.example."
        return host.size() > head.size() && host.compare(0, head.size(), head) == 0 &&
               host.find('.', head.size()) == std::string::npos;
    }
    if (name.rfind('.', 0) == 0) {
        return host == name.substr(1) || ends_with(host, name);
    }
    return host == name;
}

}  // namespace

std::vector<LocationMessage> check_protected_locations(const std::vector<ProtectedLocation>& locations,
                                                       const std::vector<std::string>& named_locations) {
    std::vector<LocationMessage> out;
    for (std::size_t i = 0; i < locations.size(); ++i) {
        const ProtectedLocation& l = locations[i];
        if (l.mode == ProtectMode::redirect) {
            continue;  // pages: served from root or proxied, both fine
        }
        if (!l.has_content_handler) {
            out.push_back(no_content_handler(i, l));
            continue;
        }
        if (l.mode == ProtectMode::on) {
            if (auto problem = replay_problem(i, l, locations, named_locations)) {
                out.push_back(std::move(*problem));
            }
        }
    }
    return out;
}

std::optional<std::string> retry_placement_problem(bool in_named_location) {
    if (in_named_location) {
        return std::nullopt;
    }
    return "spotauth: \"spotauth retry\" is only allowed in a named location (location @name) that an API "
           "location's \"error_page 401 = @name\" sends to: anywhere else it would refresh the token on every "
           "request. Use \"spotauth on\" here";
}

bool server_names_accept(const std::vector<std::string>& server_names, const std::string& host) {
    bool has_host_name = false;
    for (const std::string& name : server_names) {
        if (name.rfind('~', 0) == 0) {
            return true;  // a regex: not evaluated here
        }
        if (name.empty() || name == "_") {
            continue;  // no host name of its own (a catch-all)
        }
        has_host_name = true;
        if (server_name_matches(name, host)) {
            return true;
        }
    }
    return !has_host_name;
}

}  // namespace spotauth
