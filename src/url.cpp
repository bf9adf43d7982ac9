#include "spotauth/url.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <memory>
#include <stdexcept>
#include <tuple>

namespace spotauth {
namespace {

constexpr std::size_t kMaxReturnTo = 2048;
constexpr char kHex[] = "0123456789ABCDEF";

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void append_escaped(std::string& out, unsigned char c) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
}

// Characters a path or query may carry unescaped in a Location header.
bool is_location_safe(unsigned char c) {
    return c > 0x20 && c < 0x7F && c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' && c != '{' &&
           c != '|' && c != '}';
}

bool looks_like_same_site_path(std::string_view path) {
    if (path.empty() || path.size() > kMaxReturnTo || path[0] != '/') {
        return false;
    }
    // "//host" and "/\host" are protocol-relative URLs to browsers.
    if (path.size() > 1 && (path[1] == '/' || path[1] == '\\')) {
        return false;
    }
    for (const char ch : path) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F || c == '\\') {
            return false;
        }
    }
    return true;
}

using CurlUrl = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

std::optional<std::string> url_part(const CurlUrl& url, CURLUPart part, unsigned int flags) {
    char* value = nullptr;
    if (curl_url_get(url.get(), part, &value, flags) != CURLUE_OK) {
        return std::nullopt;
    }
    std::string out(value);
    curl_free(value);
    return out;
}

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// (scheme, host, port) of an http(s) origin, default port filled in;
// nullopt for anything else (a path, credentials, a query, "null").
std::optional<std::tuple<std::string, std::string, std::string>> parse_origin(std::string_view text) {
    CurlUrl url(curl_url(), &curl_url_cleanup);
    const std::string copy(text);
    if (!url || curl_url_set(url.get(), CURLUPART_URL, copy.c_str(), 0) != CURLUE_OK) {
        return std::nullopt;
    }
    const auto scheme = url_part(url, CURLUPART_SCHEME, 0);
    const auto host = url_part(url, CURLUPART_HOST, 0);
    const auto port = url_part(url, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    const auto path = url_part(url, CURLUPART_PATH, 0);
    if (!scheme || (*scheme != "http" && *scheme != "https") || !host || !port || (path && *path != "/") ||
        url_part(url, CURLUPART_USER, 0) || url_part(url, CURLUPART_QUERY, 0) || url_part(url, CURLUPART_FRAGMENT, 0)) {
        return std::nullopt;
    }
    return std::make_tuple(*scheme, lowercase(*host), *port);
}

}  // namespace

// libcurl's escaping: every byte but RFC 3986's unreserved characters
// (letters, digits, "-", ".", "_", "~") becomes %XX.
std::string percent_encode(std::string_view text) {
    if (text.empty()) {
        return {};  // a length of 0 would make curl measure the text with strlen
    }
    if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw std::length_error("percent_encode: text too long");
    }
    // The handle is unused since libcurl 7.82 (and was only for EBCDIC systems before).
    const std::unique_ptr<char, decltype(&curl_free)> escaped(
        curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size())), &curl_free);
    if (!escaped) {
        throw std::runtime_error("percent_encode: libcurl could not escape the text");
    }
    return std::string(escaped.get());
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%') {
            if (i + 2 >= text.size()) {
                return std::nullopt;
            }
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (plus_is_space && text[i] == '+') {
            out += ' ';
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string form_encode(const FormFields& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) {
            out += '&';
        }
        out += percent_encode(name);
        out += '=';
        out += percent_encode(value);
    }
    return out;
}

std::optional<std::string> check_http_url(std::string_view url) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
    const std::string text(url);
    if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
        return "is not a valid absolute URL";
    }
    char* scheme = nullptr;
    if (curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        return "has no scheme";
    }
    const std::string scheme_text(scheme);
    curl_free(scheme);
    if (scheme_text != "http" && scheme_text != "https") {
        return "must start with http:// or https://";
    }
    if (text.find('#') != std::string::npos) {
        return "must not contain a fragment";
    }
    return std::nullopt;
}

std::optional<std::string> url_host(std::string_view url) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
    const std::string text(url);
    char* host = nullptr;
    if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK ||
        curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        return std::nullopt;
    }
    std::string out(host);
    curl_free(host);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string append_query(std::string_view base, std::string_view query) {
    std::string out(base);
    out += base.find('?') == std::string_view::npos ? '?' : '&';
    out += query;
    return out;
}

bool origin_matches_request(std::string_view origin, std::string_view host, bool is_https) {
    if (host.empty() || host.find_first_of("/@?#") != std::string_view::npos) {
        return false;
    }
    const auto theirs = parse_origin(origin);
    const auto ours = parse_origin(std::string(is_https ? "https://" : "http://") + std::string(host));
    return theirs && ours && *theirs == *ours;
}

bool is_same_origin_request(std::string_view sec_fetch_site, std::string_view origin, std::string_view host,
                            bool is_https) {
    if (!sec_fetch_site.empty()) {
        return sec_fetch_site == "same-origin" || sec_fetch_site == "none";
    }
    return origin.empty() || origin_matches_request(origin, host, is_https);
}

std::string safe_return_to(std::string_view raw_value) {
    const auto decoded = percent_decode(raw_value, true);
    if (!decoded || !looks_like_same_site_path(*decoded)) {
        return "/";
    }
    std::string out;
    for (const char ch : *decoded) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_location_safe(c)) {
            out += ch;
        } else {
            append_escaped(out, c);
        }
    }
    return out;
}

}  // namespace spotauth
