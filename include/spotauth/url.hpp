// URL helpers: RFC 3986 escaping, form bodies, config-time URL checks and
// the open-redirect guard for `return_to`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spotauth {

// Escapes everything but RFC 3986 unreserved characters (with libcurl's
// curl_easy_escape); form_encode uses it for names and values.
std::string percent_encode(std::string_view text);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt on a
// malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

using FormFields = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded
std::string form_encode(const FormFields& fields);

// nullopt when `url` is an absolute http(s) URL with a host; otherwise a
// sentence saying what is wrong with it.
std::optional<std::string> check_http_url(std::string_view url);

// The host of an absolute URL (check_http_url passed it), in lower case;
// an IPv6 address in brackets ("[::1]"). nullopt when it has none.
std::optional<std::string> url_host(std::string_view url);

// Appends `query` to `base`, with '?' or '&' as `base` needs.
std::string append_query(std::string_view base, std::string_view query);

// True when an Origin header value ("https://host[:port]") names the
// request's own origin: the scheme of its connection (`is_https`), the
// host of its Host header (ignoring case) and its port (default ports
// spelled out or not).
bool origin_matches_request(std::string_view origin, std::string_view host, bool is_https);

// Whether a browser request may be treated as same-origin: Sec-Fetch-Site
// is authoritative where sent (same-origin or none); otherwise an Origin
// header, if any, must match the request (origin_matches_request).
bool is_same_origin_request(std::string_view sec_fetch_site, std::string_view origin, std::string_view host,
                            bool is_https);

// The raw (still escaped) value of `return_to` decoded and checked: only a
// same-site path survives ("/", "/a?b"); anything that a browser could read
// as another origin ("//x", "/\x", "https://x"), control characters and
// malformed escapes fall back to "/". Unsafe bytes in the result are escaped
// so it can go into a Location header as is.
std::string safe_return_to(std::string_view raw_value);

}  // namespace spotauth
