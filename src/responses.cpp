#include "spotauth/responses.hpp"

#include <nlohmann/json.hpp>

namespace spotauth {
namespace {

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace

std::string error_json(std::string_view code, std::string_view description,
                       std::string_view login_url) {
    nlohmann::json body = {{"error", code}, {"error_description", description}};
    if (!login_url.empty()) {
        body["login_url"] = login_url;
    }
    // Replace invalid UTF-8 rather than throw: descriptions may echo input.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_html(std::string_view title, std::string_view description,
                       std::string_view link_url, std::string_view link_text) {
    return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + escape_html(title) +
           "</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
           "padding:0 1rem;color:#222}a{color:#1db954}</style></head><body><h1>" +
           escape_html(title) + "</h1><p>" + escape_html(description) + "</p><p><a href=\"" +
           escape_html(link_url) + "\">" + escape_html(link_text) + "</a></p></body></html>\n";
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
    return nlohmann::json({{"access_token", session.access_token},
                           {"expires_in", remaining > 0 ? remaining : 0}})
        .dump();
}

std::string token_error_json(std::string_view error) {
    return nlohmann::json({{"access_token", nullptr}, {"error", error}}).dump();
}

bool prefers_html(std::string_view accept) {
    return accept.find("text/html") != std::string_view::npos;
}

}  // namespace spotauth
