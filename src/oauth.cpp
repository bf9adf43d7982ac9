#include "spotauth/oauth.hpp"

#include "spotauth/base64.hpp"
#include "spotauth/crypto.hpp"
#include "spotauth/provider_text.hpp"
#include "spotauth/url.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <system_error>

namespace spotauth {
namespace {

using json = nlohmann::json;

constexpr std::size_t kRandomTokenBytes = 32;
constexpr std::size_t kMaxTokenResponseBytes = 64 * 1024;
constexpr std::size_t kMaxProfileResponseBytes = 256 * 1024;
constexpr std::int64_t kDefaultExpiresIn = 3600;  // RFC 6749 leaves it optional
// Longer lifetimes are clamped: they mean nothing useful, and "now +
// expires_in" must not overflow.
constexpr std::int64_t kMaxExpiresIn = 365 * 86400;
constexpr std::size_t kMaxLoggedDescription = 200;

bool is_success(long status) { return status >= 200 && status < 300; }

std::string string_field(const json& object, const char* name) {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// Provider descriptions end up in logs: keep them short and printable.
std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, kMaxLoggedDescription)) {
        out += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return out;
}

TokenResponse failure(TokenOutcome outcome, std::string error, std::string description) {
    TokenResponse r;
    r.outcome = outcome;
    r.error = std::move(error);
    r.description = std::move(description);
    return r;
}

TokenOutcome classify_error(long status, std::string_view error) {
    if (error == "invalid_grant") {
        return TokenOutcome::permanent;
    }
    if (status == 429 || status >= 500 || error == "temporarily_unavailable" || error == "server_error") {
        return TokenOutcome::transient;
    }
    // invalid_client, unauthorized_client, invalid_request, a 404 from a
    // wrong token URL: retrying will not help, an operator has to.
    return TokenOutcome::misconfigured;
}

TokenResponse transfer_failure() {
    return failure(TokenOutcome::transient, "unreachable", "token endpoint unreachable");
}

// An answer carrying an OAuth `error` member, with any status.
TokenResponse error_answer(long status, const json& doc) {
    const auto& error = doc["error"];
    std::string code = error.is_string() ? printable(error.get<std::string>()) : std::string();
    if (code.empty()) {
        code = "invalid_error_member";  // nothing a log line or a metric could name
    }
    return failure(classify_error(status, code), code,
                   "HTTP " + std::to_string(status) + ": " + printable(string_field(doc, "error_description")));
}

TokenResponse status_failure(long status) {
    return failure(classify_error(status, ""), "http_" + std::to_string(status),
                   "HTTP " + std::to_string(status) + " without an OAuth error body");
}

bool has_error_member(const json& doc) {
    const auto it = doc.find("error");
    return it != doc.end() && !it->is_null();
}

bool is_ascii_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// expires_in as RFC 6749 says (an integer) or as Naver sends it (a string of
// digits); nullopt for anything else, zero, negative or beyond int64.
std::optional<std::int64_t> lifetime_of(const json& value) {
    if (value.is_number_integer()) {
        const auto seconds = value.get<std::int64_t>();  // an unsigned beyond int64 turns negative
        return seconds > 0 ? std::optional<std::int64_t>(seconds) : std::nullopt;
    }
    if (!value.is_string() || !is_ascii_digits(value.get_ref<const std::string&>())) {
        return std::nullopt;
    }
    const std::string& text = value.get_ref<const std::string&>();
    std::int64_t seconds = 0;
    const auto [end, problem] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (problem != std::errc() || end != text.data() + text.size() || seconds <= 0) {
        return std::nullopt;
    }
    return seconds;
}

TokenResponse parse_token_success(const json& doc) {
    TokenResponse r;
    r.access_token = string_field(doc, "access_token");
    if (r.access_token.empty()) {
        return failure(TokenOutcome::transient, "bad_response", "token response has no access_token");
    }
    if (!is_token_text(r.access_token)) {
        return failure(TokenOutcome::transient, "bad_response", "access_token is not 1-2048 visible ASCII characters");
    }
    const std::string token_type = string_field(doc, "token_type");
    if (!token_type.empty() && !iequals(token_type, "Bearer")) {
        return failure(TokenOutcome::misconfigured, "bad_response",
                       "token_type is not Bearer: " + printable(token_type));
    }
    const auto expires_in = doc.find("expires_in");
    r.expires_in = kDefaultExpiresIn;
    if (expires_in != doc.end()) {
        const auto seconds = lifetime_of(*expires_in);
        if (!seconds) {
            return failure(TokenOutcome::transient, "bad_response", "expires_in is not a positive integer");
        }
        r.expires_in = std::min(*seconds, kMaxExpiresIn);
    }
    const std::string refresh_token = string_field(doc, "refresh_token");
    if (!refresh_token.empty() && !is_token_text(refresh_token)) {
        return failure(TokenOutcome::transient, "bad_response", "refresh_token is not 1-2048 visible ASCII characters");
    }
    if (!refresh_token.empty()) {
        r.refresh_token = refresh_token;
    }
    r.expires = expires_in != doc.end() || r.refresh_token.has_value();
    r.outcome = TokenOutcome::ok;
    return r;
}

bool is_claim_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-'; }

// Non-empty names of letters, digits, '_' and '-', joined by single dots.
bool is_claim_path(std::string_view path) {
    bool name_started = false;
    for (const char c : path) {
        if (c == '.' && name_started) {
            name_started = false;
        } else if (is_claim_name_char(c)) {
            name_started = true;
        } else {
            return false;
        }
    }
    return name_started;
}

// The value at a dotted path of nested objects; null when any step is
// missing or not an object.
const json* claim_at(const json& doc, std::string_view path) {
    const json* node = &doc;
    while (node->is_object()) {
        const auto dot = path.find('.');
        const auto it = node->find(std::string(path.substr(0, dot)));
        if (it == node->end()) {
            return nullptr;
        }
        node = &*it;
        if (dot == std::string_view::npos) {
            return node;
        }
        path.remove_prefix(dot + 1);
    }
    return nullptr;
}

// A user id as text: strings as they are, integers (GitHub's ids) in
// decimal; anything else is no id.
std::string id_text(const json* value) {
    if (value == nullptr) {
        return {};
    }
    if (value->is_string()) {
        return value->get<std::string>();
    }
    if (value->is_number_unsigned()) {
        return std::to_string(value->get<std::uint64_t>());
    }
    if (value->is_number_integer()) {
        return std::to_string(value->get<std::int64_t>());
    }
    return {};
}

// Two form-encoded field lists as one.
std::string with_fields(std::string fields, std::string_view more) {
    if (!more.empty()) {
        fields += '&';
        fields.append(more);
    }
    return fields;
}

}  // namespace

std::optional<std::string> random_token() {
    const auto bytes = random_bytes(kRandomTokenBytes);
    if (!bytes) {
        return std::nullopt;
    }
    return base64url_encode(*bytes);
}

std::string pkce_challenge(std::string_view code_verifier) { return base64url_encode(sha256(code_verifier)); }

std::string login_state_key(std::string_view state) { return base64url_encode(sha256(state)); }

AccountChoice account_choice(std::optional<std::string_view> switch_value) {
    return switch_value == std::string_view("1") ? AccountChoice::choose : AccountChoice::keep;
}

// Spotify's show_dialog=true makes it show the consent page with "Not
// you?" even to a user who already approved the app; other providers ignore
// a parameter they do not know (RFC 6749 section 3.1).
std::string authorize_url(const ClientConfig& client, std::string_view state, std::string_view code_challenge,
                          AccountChoice choice) {
    FormFields fields = {
        {"client_id", client.client_id}, {"response_type", "code"}, {"redirect_uri", client.redirect_uri}};
    if (!client.scopes.empty()) {  // Naver takes none: its consent items are set in its console
        fields.emplace_back("scope", client.scopes);
    }
    fields.emplace_back("state", std::string(state));
    fields.emplace_back("code_challenge_method", "S256");
    fields.emplace_back("code_challenge", std::string(code_challenge));
    if (choice == AccountChoice::choose) {
        fields.emplace_back("show_dialog", "true");
    }
    return append_query(client.authorize_url, with_fields(form_encode(fields), client.authorize_params));
}

std::string basic_auth_header(const ClientConfig& client) {
    return "Authorization: Basic " +
           base64_encode(percent_encode(client.client_id) + ":" + percent_encode(client.client_secret));
}

std::string body_credentials(const ClientConfig& client) {
    if (client.client_auth != ClientAuth::post) {
        return {};
    }
    return form_encode({{"client_id", client.client_id}, {"client_secret", client.client_secret}});
}

std::string code_exchange_body(const ClientConfig& client, std::string_view code, std::string_view code_verifier) {
    return with_fields(form_encode({{"grant_type", "authorization_code"},
                                    {"code", std::string(code)},
                                    {"redirect_uri", client.redirect_uri},
                                    {"code_verifier", std::string(code_verifier)}}),
                       body_credentials(client));
}

std::string refresh_body(std::string_view refresh_token, std::string_view body_credentials) {
    return with_fields(form_encode({{"grant_type", "refresh_token"}, {"refresh_token", std::string(refresh_token)}}),
                       body_credentials);
}

std::string default_profile_url(std::string_view api_url) {
    while (!api_url.empty() && api_url.back() == '/') {
        api_url.remove_suffix(1);
    }
    return std::string(api_url) + "/v1/me";
}

Expected<ProfileClaims> parse_profile_claims(const std::vector<std::string>& args, const ProfileClaims& base) {
    ProfileClaims claims = base;
    for (const std::string& arg : args) {
        const auto eq = arg.find('=');
        const std::string name = arg.substr(0, eq);
        std::string* path = name == "id" ? &claims.id : name == "name" ? &claims.name : nullptr;
        if (path == nullptr || eq == std::string::npos) {
            return Expected<ProfileClaims>::failure("has an invalid parameter \"" + arg +
                                                    "\": use id=<field> and name=<field>, for example "
                                                    "\"id=sub name=name\"");
        }
        *path = arg.substr(eq + 1);
        if (!is_claim_path(*path)) {
            return Expected<ProfileClaims>::failure("has an invalid field in \"" + arg +
                                                    "\": field names are letters, digits, \"_\" and \"-\", "
                                                    "joined with dots for nested objects (\"data.user.id\")");
        }
    }
    return claims;
}

HttpRequest token_request(const ClientConfig& client, const CallLimits& limits, std::string form_body) {
    HttpRequest req;
    req.url = client.token_url;
    req.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
    if (client.client_auth == ClientAuth::basic) {
        req.headers.insert(req.headers.begin(), basic_auth_header(client));
    }
    req.post_body = std::move(form_body);
    req.connect_timeout_ms = limits.connect_timeout_ms;
    req.total_timeout_ms = limits.timeout_ms;
    req.max_response_bytes = kMaxTokenResponseBytes;
    req.ca_file = limits.ca_file;
    return req;
}

HttpRequest profile_request(const ClientConfig& client, const CallLimits& limits, std::string_view access_token) {
    HttpRequest req;
    req.url = client.profile_url;
    req.headers = {"Authorization: Bearer " + std::string(access_token), "Accept: application/json"};
    req.connect_timeout_ms = limits.connect_timeout_ms;
    req.total_timeout_ms = limits.timeout_ms;
    req.max_response_bytes = kMaxProfileResponseBytes;
    req.ca_file = limits.ca_file;
    return req;
}

TokenResponse parse_token_response(long status, std::string_view body) {
    if (status == 0) {
        return transfer_failure();
    }
    const json doc = json::parse(body, nullptr, false);
    if (doc.is_object() && has_error_member(doc)) {
        return error_answer(status, doc);
    }
    if (!is_success(status)) {
        return status_failure(status);
    }
    if (!doc.is_object()) {
        return failure(TokenOutcome::transient, "bad_response", "token response is not JSON");
    }
    return parse_token_success(doc);
}

std::optional<Profile> parse_profile(long status, std::string_view body, const ProfileClaims& claims) {
    if (!is_success(status)) {
        return std::nullopt;
    }
    const json doc = json::parse(body, nullptr, false);
    if (!doc.is_object()) {
        return std::nullopt;
    }
    // Both end up in headers, variables and the error log: the id exact or
    // refused (cleaning could merge two users), the name cleaned.
    const auto id = exact_user_id(id_text(claim_at(doc, claims.id)));
    if (!id) {
        return std::nullopt;
    }
    const json* name = claim_at(doc, claims.name);
    Profile p{*id, clean_display_name(name != nullptr && name->is_string() ? name->get<std::string>() : ""),
              clean_profile_word(string_field(doc, "product")), clean_profile_word(string_field(doc, "country"))};
    // Spotify's display_name may be null; the id is always there.
    if (p.display_name.empty()) {
        p.display_name = clean_display_name(p.id);
    }
    return p;
}

Session new_session(const Profile& profile, const TokenResponse& tokens, UnixTime now, UnixTime lifetime) {
    Session s;
    s.user_id = profile.id;
    s.display_name = profile.display_name;
    s.product = profile.product;
    s.country = profile.country;
    s.access_token = tokens.access_token;
    s.refresh_token = tokens.refresh_token.value_or("");
    s.access_issued_at = now;
    s.issued_at = now;
    s.expires_at = now + lifetime;
    s.access_expires_at = tokens.expires ? now + tokens.expires_in : s.expires_at;
    return s;
}

}  // namespace spotauth
