// Bodies of the module's own responses. Error codes are a stable contract
// (documented in README.md); descriptions are for people. HTML pages are
// made by page.hpp.
#pragma once

#include <string>
#include <string_view>

#include "spotauth/session.hpp"

namespace spotauth {

// {"error":code,"error_description":description[,"login_url":login_url]}
std::string error_json(std::string_view code, std::string_view description, std::string_view login_url = {});

// The session endpoint's answer: who is signed in (never a token), and
// `error` when the last refresh failed. `session` is null when signed out.
std::string session_json(const Session* session, std::string_view error);

// The token endpoint's answer, for the Web Playback SDK's getOAuthToken:
// the access token and its remaining lifetime, nothing else.
std::string token_json(const Session& session, UnixTime now);
std::string token_error_json(std::string_view error);

// True when an Accept header asks for HTML (a browser navigation) rather
// than JSON (fetch/XHR).
bool prefers_html(std::string_view accept);

}  // namespace spotauth
