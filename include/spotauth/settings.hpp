// A server's OAuth settings as nginx.conf gives them (files already read by
// the caller), checked and turned into what requests need. Every message
// names the directive to fix, and says which one it is about so that
// `nginx -t` can print the file and line that set it.
#pragma once

#include "spotauth/expected.hpp"
#include "spotauth/jwe.hpp"
#include "spotauth/oauth.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace spotauth {

// What a message is about. `use`: the first directive that needs these
// settings (a required directive is missing, so there is no line of its own).
enum class Directive {
    use,
    client_id,
    client_secret_file,
    key_file,
    redirect_uri,
    authorize_url,
    token_url,
    api_url,
    profile_url,
    count,  // not a directive: how many there are
};
inline constexpr std::size_t kDirectiveCount = static_cast<std::size_t>(Directive::count);

struct SettingsMessage {
    Directive directive = Directive::use;
    std::size_t index = 0;  // which spotauth_key_file, in the order given
    std::string text;
};

// A file named by a directive: its path as written, its text or why it
// could not be read, and its permission bits where known.
// The largest file a directive reads (keys, secrets, allow lists, the page
// template): nginx -t refuses a bigger one, or one that is not a regular
// file (a FIFO or a device would hang or exhaust the master).
inline constexpr std::size_t kMaxConfigFileBytes = 1024 * 1024;

struct ConfigFile {
    std::string path;
    Expected<std::string> text;
    std::optional<unsigned> mode = std::nullopt;
};

// A location with spotauth_callback (of any server): its path, whether it
// is an exact-match location (a prefix location serves every path under its
// own), and the server_name values of its server (as nginx keeps them; see
// server_names_accept).
struct CallbackLocation {
    std::string path;
    bool exact = true;
    std::vector<std::string> server_names = {};
};

// The provider's values (spotauth_provider, Spotify's without it) stand in
// for the URLs, scopes, claims and client authentication not given:
// an explicit directive always wins, at any level.
struct RawSettings {
    std::string provider;  // spotauth_provider: a name of providers.hpp; empty: spotify
    std::string client_id;
    std::optional<ConfigFile> client_secret;  // nullopt: no spotauth_client_secret_file
    std::vector<ConfigFile> key_files;
    std::string redirect_uri;
    // Empty: the provider's.
    std::string scopes;
    std::string authorize_url;
    std::string token_url;
    std::string api_url;
    std::string profile_url;                // empty: the provider's, or default_profile_url(api_url)
    ProfileClaims profile_claims{"", ""};   // an empty field: the provider's
    std::optional<ClientAuth> client_auth;  // nullopt: the provider's
    // nullopt: not known (a regex location has spotauth_callback), not checked.
    std::optional<std::vector<CallbackLocation>> callback_locations;
    bool secure_cookies = true;
};

struct CheckedSettings {
    ClientConfig client;
    std::vector<Key> keys;                  // the first seals, all open
    std::vector<SettingsMessage> warnings;  // fine to start with, worth a look
};

Expected<CheckedSettings, SettingsMessage> check_settings(const RawSettings& raw);

}  // namespace spotauth
