#include "spotauth/responses.hpp"

#include <nlohmann/json.hpp>

namespace spotauth {

std::string error_json(std::string_view code, std::string_view description, std::string_view login_url) {
    nlohmann::json body = {{"error", code}, {"error_description", description}};
    if (!login_url.empty()) {
        body["login_url"] = login_url;
    }
    // Replace invalid UTF-8 rather than throw: descriptions may echo input.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string session_json(const Session* session, std::string_view error) {
    nlohmann::json body = {{"authenticated", session != nullptr}};
    if (session != nullptr) {
        body["user"] = {{"id", session->user_id}, {"display_name", session->display_name}};
        body["expires_at"] = session->expires_at;
    }
    if (!error.empty()) {
        body["error"] = error;
    }
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string token_json(const Session& session, UnixTime now) {
    const UnixTime remaining = session.access_expires_at - now;
    return nlohmann::json({{"access_token", session.access_token}, {"expires_in", remaining > 0 ? remaining : 0}})
        .dump();
}

std::string token_error_json(std::string_view error) {
    return nlohmann::json({{"access_token", nullptr}, {"error", error}}).dump();
}

bool prefers_html(std::string_view accept) { return accept.find("text/html") != std::string_view::npos; }

}  // namespace spotauth
