#include "spotauth/settings.hpp"

#include "spotauth/config_checks.hpp"
#include "spotauth/providers.hpp"
#include "spotauth/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

namespace spotauth {
namespace {

using Checked = Expected<CheckedSettings, SettingsMessage>;

constexpr std::size_t kSpotifyClientIdLength = 32;
constexpr unsigned kGroupOrOtherBits = 077;
constexpr std::string_view kSpotifyAccounts = "https://accounts.spotify.com/";

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

Checked refused(Directive directive, std::string text, std::size_t index = 0) {
    return Checked::failure({directive, index, std::move(text)});
}

std::string trimmed_right(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.pop_back();
    }
    return text;
}

Expected<std::string> client_secret(const std::optional<ConfigFile>& file, std::string_view provider) {
    if (!file) {
        return Expected<std::string>::failure(
            "spotauth: \"spotauth_client_secret_file\" is required: a file holding the " + std::string(provider) +
            " app's client secret");
    }
    const std::string prefix = "spotauth: spotauth_client_secret_file " + quoted(file->path) + " ";
    if (!file->text) {
        return Expected<std::string>::failure(prefix + file->text.error());
    }
    std::string secret = trimmed_right(*file->text);
    if (secret.empty()) {
        return Expected<std::string>::failure(prefix + "is empty");
    }
    return secret;
}

// The index of the failing file goes with the message. Each file's key is
// bound to the client id (client_key).
Expected<std::vector<Key>, SettingsMessage> keys_of(const std::vector<ConfigFile>& files, std::string_view client_id) {
    using Keys = Expected<std::vector<Key>, SettingsMessage>;
    if (files.empty()) {
        return Keys::failure({Directive::use, 0,
                              "spotauth: \"spotauth_key_file\" is required; create one with "
                              "\"openssl rand -base64 32 > /etc/nginx/spotauth.key\""});
    }
    std::vector<Key> keys;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const ConfigFile& file = files[i];
        const auto key = file.text ? parse_key_file(*file.text) : Expected<Key>::failure(file.text.error());
        if (!key) {
            return Keys::failure(
                {Directive::key_file, i, "spotauth: spotauth_key_file " + quoted(file.path) + " " + key.error()});
        }
        auto bound = client_key(*key, client_id);
        if (!bound) {
            return Keys::failure({Directive::key_file, i,
                                  "spotauth: spotauth_key_file " + quoted(file.path) +
                                      " cannot be derived into "
                                      "the client's key (OpenSSL's HKDF failed)"});
        }
        keys.push_back(std::move(*bound));
    }
    return keys;
}

bool is_spotify(const RawSettings& raw) { return raw.authorize_url.rfind(kSpotifyAccounts, 0) == 0; }

// An IP literal of the loopback interface: 127.0.0.0/8 or [::1].
bool is_loopback_literal(const std::string& host) {
    in_addr v4{};
    return host == "[::1]" || (inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
}

// Spotify's rules for redirect URIs (since April 2025 it answers others
// with "INVALID_CLIENT: Insecure redirect URI"): https, or http on a
// loopback IP literal; never the name "localhost".
std::optional<SettingsMessage> spotify_redirect_problem(const RawSettings& raw) {
    if (!is_spotify(raw)) {
        return std::nullopt;
    }
    const std::string host = url_host(raw.redirect_uri).value_or("");
    const std::string head = "spotauth: spotauth_redirect_uri " + quoted(raw.redirect_uri) + " ";
    const std::string refusal = " (Spotify refuses it: \"INVALID_CLIENT: Insecure redirect URI\")";
    if (host == "localhost" || (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0)) {
        return SettingsMessage{Directive::redirect_uri, 0,
                               head + "names \"localhost\"" + refusal +
                                   ": use the loopback address, \"http://127.0.0.1:PORT/...\" or "
                                   "\"http://[::1]:PORT/...\", here and in the app's settings on the Spotify "
                                   "developer dashboard"};
    }
    if (raw.redirect_uri.rfind("http://", 0) == 0 && !is_loopback_literal(host)) {
        return SettingsMessage{Directive::redirect_uri, 0,
                               head + "is http:// on a host that is not a loopback address" + refusal +
                                   ": use https://, or for local testing \"http://127.0.0.1:PORT/...\" or "
                                   "\"http://[::1]:PORT/...\""};
    }
    return std::nullopt;
}

std::optional<SettingsMessage> url_problem(const RawSettings& raw) {
    const struct {
        Directive directive;
        const char* name;
        const std::string* url;
    } urls[] = {{Directive::redirect_uri, "spotauth_redirect_uri", &raw.redirect_uri},
                {Directive::authorize_url, "spotauth_authorize_url", &raw.authorize_url},
                {Directive::token_url, "spotauth_token_url", &raw.token_url},
                {Directive::api_url, "spotauth_api_url", &raw.api_url},
                {Directive::profile_url, "spotauth_profile_url", &raw.profile_url}};
    for (const auto& [directive, name, url] : urls) {
        if (url->empty() && directive == Directive::profile_url) {
            continue;  // the default, under spotauth_api_url
        }
        if (const auto problem = check_http_url(*url)) {
            return SettingsMessage{directive, 0,
                                   std::string("spotauth: ") + name + " " + quoted(*url) + " " + *problem};
        }
    }
    return std::nullopt;
}

// --- warnings -----------------------------------------------------------------

bool is_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// Spotify's client ids are 32 hex digits; other providers have their own
// formats, so only a client of Spotify's accounts service is checked.
std::optional<SettingsMessage> client_id_warning(const RawSettings& raw) {
    if (!is_spotify(raw) || (raw.client_id.size() == kSpotifyClientIdLength && is_hex(raw.client_id))) {
        return std::nullopt;
    }
    return SettingsMessage{Directive::client_id, 0,
                           "spotauth: spotauth_client_id " + quoted(raw.client_id) +
                               " is not a Spotify client id (32 hexadecimal characters, shown on the app's page "
                               "of the Spotify developer dashboard); logins will fail with INVALID_CLIENT"};
}

// The path of an absolute URL already checked by check_http_url.
std::string url_path(std::string_view url) {
    const auto authority = url.find("//") + 2;
    const auto path_start = url.find_first_of("/?#", authority);
    if (path_start == std::string_view::npos || url[path_start] != '/') {
        return "/";
    }
    return std::string(url.substr(path_start, url.find_first_of("?#", path_start) - path_start));
}

bool serves(const CallbackLocation& location, std::string_view path) {
    return location.exact ? path == location.path : path.rfind(location.path, 0) == 0;
}

std::optional<SettingsMessage> redirect_path_warning(const RawSettings& raw) {
    if (!raw.callback_locations) {
        return std::nullopt;
    }
    const std::string path = url_path(raw.redirect_uri);
    const auto& locations = *raw.callback_locations;
    if (std::any_of(locations.begin(), locations.end(), [&](const auto& l) { return serves(l, path); })) {
        return std::nullopt;
    }
    std::string known;
    for (const CallbackLocation& l : locations) {
        known += (known.empty() ? "" : ", ") + quoted(l.path);
    }
    return SettingsMessage{Directive::redirect_uri, 0,
                           "spotauth: spotauth_redirect_uri " + quoted(raw.redirect_uri) + " has the path " +
                               quoted(path) + ", which no spotauth_callback location serves (" +
                               (known.empty() ? std::string("there is none") : "they are at " + known) +
                               "); the provider sends users back there, so logins cannot finish. Add \"location = " +
                               path + " { spotauth_callback; }\" or fix the URI"};
}

// The provider sends the browser to the redirect URI's host: a server that
// holds the callback but answers other names would not get it (another
// server, or the default one, would answer).
std::optional<SettingsMessage> redirect_host_warning(const RawSettings& raw) {
    if (!raw.callback_locations) {
        return std::nullopt;
    }
    const std::string path = url_path(raw.redirect_uri);
    const std::string host = url_host(raw.redirect_uri).value_or("");
    std::vector<const CallbackLocation*> serving;
    for (const CallbackLocation& l : *raw.callback_locations) {
        if (serves(l, path)) {
            if (server_names_accept(l.server_names, host)) {
                return std::nullopt;
            }
            serving.push_back(&l);
        }
    }
    if (serving.empty()) {
        return std::nullopt;  // redirect_path_warning says it
    }
    std::string names;
    for (const std::string& name : serving.front()->server_names) {
        names += (names.empty() ? "" : " ") + name;
    }
    return SettingsMessage{Directive::redirect_uri, 0,
                           "spotauth: spotauth_redirect_uri " + quoted(raw.redirect_uri) + " has the host " +
                               quoted(host) +
                               ", which no server_name of the server holding the spotauth_callback "
                               "location " +
                               quoted(serving.front()->path) + " matches (server_name " + names +
                               "); the provider sends users to that host, where another server would answer. Add "
                               "\"server_name " +
                               host + ";\" to that server or fix the URI"};
}

std::string octal_mode(unsigned mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", mode & 07777);
    return text;
}

std::optional<SettingsMessage> mode_warning(Directive directive, const char* name, const ConfigFile& file,
                                            std::size_t index) {
    if (!file.mode || (*file.mode & kGroupOrOtherBits) == 0) {
        return std::nullopt;
    }
    return SettingsMessage{directive, index,
                           std::string("spotauth: ") + name + " " + quoted(file.path) +
                               " is accessible to group or others (mode " + octal_mode(*file.mode) +
                               "); it holds a secret: \"chmod 600 " + file.path + "\""};
}

std::vector<SettingsMessage> warnings_of(const RawSettings& raw) {
    std::vector<std::optional<SettingsMessage>> found = {client_id_warning(raw), redirect_path_warning(raw),
                                                         redirect_host_warning(raw)};
    if (raw.client_secret) {
        found.push_back(
            mode_warning(Directive::client_secret_file, "spotauth_client_secret_file", *raw.client_secret, 0));
    }
    for (std::size_t i = 0; i < raw.key_files.size(); ++i) {
        found.push_back(mode_warning(Directive::key_file, "spotauth_key_file", raw.key_files[i], i));
    }
    if (raw.secure_cookies && raw.redirect_uri.rfind("http://", 0) == 0) {
        found.push_back(SettingsMessage{
            Directive::redirect_uri, 0,
            "spotauth: spotauth_redirect_uri is http:// but spotauth_cookie_secure is on; browsers only keep "
            "Secure cookies from https sites (use \"spotauth_cookie_secure off\" for plain-http local testing)"});
    }
    std::vector<SettingsMessage> out;
    for (auto& warning : found) {
        if (warning) {
            out.push_back(std::move(*warning));
        }
    }
    return out;
}

}  // namespace

Expected<CheckedSettings, SettingsMessage> check_settings(const RawSettings& given) {
    const ProviderPreset* provider = find_provider(given.provider.empty() ? "spotify" : given.provider);
    if (provider == nullptr) {
        return refused(Directive::use, "spotauth: unknown spotauth_provider \"" + given.provider +
                                           "\"; the known ones are " + provider_names());
    }
    const RawSettings raw = with_provider_defaults(given, *provider);
    if (raw.client_id.empty()) {
        return refused(Directive::use,
                       "spotauth: \"spotauth_client_id\" is required where spotauth_login, spotauth_callback, "
                       "spotauth_health or \"spotauth on\" is used");
    }
    const auto secret = client_secret(raw.client_secret, provider->display_name);
    if (!secret) {
        return refused(raw.client_secret ? Directive::client_secret_file : Directive::use, secret.error());
    }
    auto keys = keys_of(raw.key_files, raw.client_id);
    if (!keys) {
        return Checked::failure(keys.error());
    }
    if (raw.redirect_uri.empty()) {
        return refused(Directive::use,
                       "spotauth: \"spotauth_redirect_uri\" is required: the absolute URL of the spotauth_callback "
                       "location, as registered with " +
                           std::string(provider->display_name));
    }
    if (auto problem = url_problem(raw)) {
        return Checked::failure(std::move(*problem));
    }
    if (auto problem = spotify_redirect_problem(raw)) {
        return Checked::failure(std::move(*problem));
    }
    CheckedSettings out;
    out.client = {raw.client_id,
                  *secret,
                  raw.redirect_uri,
                  raw.scopes,
                  raw.authorize_url,
                  raw.token_url,
                  raw.api_url,
                  raw.profile_url.empty() ? default_profile_url(raw.api_url) : raw.profile_url,
                  raw.profile_claims,
                  raw.client_auth.value_or(provider->client_auth),
                  std::string(provider->authorize_params),
                  std::string(provider->display_name)};
    out.keys = std::move(*keys);
    out.warnings = warnings_of(raw);
    return out;
}

}  // namespace spotauth
