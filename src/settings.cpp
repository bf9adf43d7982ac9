#include "spotauth/settings.hpp"

#include "spotauth/url.hpp"

#include <cctype>
#include <utility>

namespace spotauth {
namespace {

using Checked = Expected<CheckedSettings>;

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string trimmed_right(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.pop_back();
    }
    return text;
}

Expected<std::string> client_secret(const std::optional<ConfigFile>& file) {
    if (!file) {
        return Expected<std::string>::failure(
            "spotauth: \"spotauth_client_secret_file\" is required: a file holding the Spotify app's client secret");
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

Expected<std::vector<Key>> keys_of(const std::vector<ConfigFile>& files) {
    if (files.empty()) {
        return Expected<std::vector<Key>>::failure(
            "spotauth: \"spotauth_key_file\" is required; create one with "
            "\"openssl rand -base64 32 > /etc/nginx/spotauth.key\"");
    }
    std::vector<Key> keys;
    for (const ConfigFile& file : files) {
        const auto key = file.text ? parse_key_file(*file.text) : Expected<Key>::failure(file.text.error());
        if (!key) {
            return Expected<std::vector<Key>>::failure("spotauth: spotauth_key_file " + quoted(file.path) + " " +
                                                       key.error());
        }
        keys.push_back(*key);
    }
    return keys;
}

std::optional<std::string> url_problem(const RawSettings& raw) {
    const std::pair<const char*, const std::string*> urls[] = {{"spotauth_redirect_uri", &raw.redirect_uri},
                                                               {"spotauth_authorize_url", &raw.authorize_url},
                                                               {"spotauth_token_url", &raw.token_url},
                                                               {"spotauth_api_url", &raw.api_url}};
    for (const auto& [directive, url] : urls) {
        if (const auto problem = check_http_url(*url)) {
            return std::string("spotauth: ") + directive + " " + quoted(*url) + " " + *problem;
        }
    }
    return std::nullopt;
}

}  // namespace

Expected<CheckedSettings> check_settings(const RawSettings& raw) {
    if (raw.client_id.empty()) {
        return Checked::failure(
            "spotauth: \"spotauth_client_id\" is required where spotauth_login, spotauth_callback or "
            "\"spotauth on\" is used");
    }
    const auto secret = client_secret(raw.client_secret);
    if (!secret) {
        return Checked::failure(secret.error());
    }
    auto keys = keys_of(raw.key_files);
    if (!keys) {
        return Checked::failure(keys.error());
    }
    if (raw.redirect_uri.empty()) {
        return Checked::failure(
            "spotauth: \"spotauth_redirect_uri\" is required: the absolute URL of the spotauth_callback "
            "location, as registered with Spotify");
    }
    if (const auto problem = url_problem(raw)) {
        return Checked::failure(*problem);
    }
    CheckedSettings out;
    out.client = {raw.client_id,     *secret,       raw.redirect_uri, raw.scopes,
                  raw.authorize_url, raw.token_url, raw.api_url};
    out.keys = std::move(*keys);
    if (raw.secure_cookies && raw.redirect_uri.rfind("http://", 0) == 0) {
        out.warnings.push_back(
            "spotauth: spotauth_redirect_uri is http:// but spotauth_cookie_secure is on; browsers only keep "
            "Secure cookies from https sites (use \"spotauth_cookie_secure off\" for plain-http local testing)");
    }
    return out;
}

}  // namespace spotauth
