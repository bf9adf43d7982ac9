// A server's OAuth settings as nginx.conf gives them (files already read by
// the caller), checked and turned into what requests need. Every message
// names the directive to fix; `nginx -t` prints it.
#pragma once

#include "spotauth/expected.hpp"
#include "spotauth/jwe.hpp"
#include "spotauth/oauth.hpp"

#include <optional>
#include <string>
#include <vector>

namespace spotauth {

// A file named by a directive: its path as written, and its text or why it
// could not be read.
struct ConfigFile {
    std::string path;
    Expected<std::string> text;
};

struct RawSettings {
    std::string client_id;
    std::optional<ConfigFile> client_secret;  // nullopt: no spotauth_client_secret_file
    std::vector<ConfigFile> key_files;
    std::string redirect_uri;
    std::string scopes;
    std::string authorize_url;
    std::string token_url;
    std::string api_url;
    bool secure_cookies = true;
};

struct CheckedSettings {
    ClientConfig client;
    std::vector<Key> keys;          // the first seals, all open
    std::vector<std::string> warnings;  // fine to start with, worth a look
};

Expected<CheckedSettings> check_settings(const RawSettings& raw);

}  // namespace spotauth
