// The helpers of ngx_spotauth_module.hpp that are not inline: strings
// copied into nginx pools, and the log line of an exception stopped at the
// C boundary.
#include "ngx_spotauth_module.hpp"

#include <exception>

namespace spotauth_ngx {

ngx_str_t to_ngx(ngx_pool_t* pool, std::string_view s) noexcept {
    ngx_str_t out{0, nullptr};
    auto* data = static_cast<u_char*>(ngx_pnalloc(pool, s.size() == 0 ? 1 : s.size()));
    if (data != nullptr) {
        if (!s.empty()) {  // an empty view may have no data at all: memcpy's source must not be null
            ngx_memcpy(data, s.data(), s.size());
        }
        out = {s.size(), data};
    }
    return out;
}

void log_escaped_exception(ngx_log_t* log, const char* where) noexcept {
    const char* what = "an unknown exception";
    try {
        throw;
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    ngx_log_error(NGX_LOG_ERR, log, 0, "spotauth: %s failed: %s", where, what);
}

}  // namespace spotauth_ngx
