// What the module sends (see ngx_spotauth_reply.hpp).
#include "ngx_spotauth_reply.hpp"

#include "spotauth/page.hpp"
#include "spotauth/responses.hpp"

namespace spotauth_ngx {
namespace {

std::string_view accept_header(ngx_http_request_t* r) {
#if (NGX_HTTP_HEADERS)
    if (r->headers_in.accept != nullptr) {
        return to_view(r->headers_in.accept->value);
    }
#endif
    return {};
}

// Cookie, Bearer challenge and Retry-After that go with an error answer.
bool error_headers(ngx_http_request_t* r, const Settings& s, const spotauth::ErrorReply& e) {
    if (e.ends_session && !clear_cookie(r, s, s.cookies.session)) {
        return false;
    }
    if (e.bearer_challenge && !add_response_header(r, "WWW-Authenticate", "Bearer realm=\"spotauth\"")) {
        return false;
    }
    return e.status != NGX_HTTP_SERVICE_UNAVAILABLE || add_response_header(r, "Retry-After", "1");
}

}  // namespace

bool add_response_header(ngx_http_request_t* r, std::string_view name, std::string_view value) {
    auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) {
        return false;
    }
    h->hash = 1;
    unlink_header(h);
    h->key = to_ngx(r->pool, name);
    h->value = to_ngx(r->pool, value);
    return h->key.data != nullptr && h->value.data != nullptr;
}

bool clear_cookie(ngx_http_request_t* r, const Settings& s, std::string_view name) {
    return add_response_header(r, "Set-Cookie", spotauth::set_cookie_value(name, "", {s.secure_cookies, 0}));
}

ngx_int_t send_body(ngx_http_request_t* r, ngx_uint_t status, std::string_view content_type, std::string_view body) {
    r->headers_out.status = status;
    r->headers_out.content_length_n = static_cast<off_t>(body.size());
    r->headers_out.content_type = to_ngx(r->pool, content_type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    if (r->headers_out.content_type.data == nullptr || !add_response_header(r, "Cache-Control", "no-store")) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (r->method == NGX_HTTP_HEAD || body.empty()) {
        r->header_only = 1;
    }
    const ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    ngx_buf_t* b = ngx_create_temp_buf(r->pool, body.size());
    if (b == nullptr) {
        return NGX_ERROR;
    }
    b->last = ngx_cpymem(b->last, body.data(), body.size());
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    ngx_chain_t out{b, nullptr};
    return ngx_http_output_filter(r, &out);
}

ngx_int_t send_json(ngx_http_request_t* r, ngx_uint_t status, std::string_view body) {
    return send_body(r, status, "application/json", body);
}

namespace {

ngx_int_t send_error_as(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure, bool html,
                        std::string_view return_to) {
    const spotauth::ErrorReply e = spotauth::error_reply(failure, s.client.provider_name);
    if (!error_headers(r, s, e)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const auto status = static_cast<ngx_uint_t>(e.status);
    if (html) {
        const spotauth::PageFields page =
            spotauth::error_page_fields(failure, s.login_uri, return_to, s.client.provider_name);
        return send_body(r, status, "text/html; charset=utf-8", page_template_of(r).render(page));
    }
    const std::string_view login_url = e.offers_login ? std::string_view(s.login_uri) : std::string_view();
    return send_json(r, status, spotauth::error_json(e.code, e.description, login_url));
}

}  // namespace

ngx_int_t send_error(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure, std::string_view return_to) {
    return send_error_as(r, s, failure, spotauth::prefers_html(accept_header(r)), return_to);
}

ngx_int_t send_error_json(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure) {
    return send_error_as(r, s, failure, false, {});
}

ngx_int_t send_error_page(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure,
                          std::string_view return_to) {
    return send_error_as(r, s, failure, true, return_to);
}

ngx_int_t send_token_error(ngx_http_request_t* r, const Settings& s, spotauth::Failure failure) {
    const spotauth::ErrorReply e = spotauth::error_reply(failure);
    if (!error_headers(r, s, e)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_json(r, static_cast<ngx_uint_t>(e.status), spotauth::token_error_json(e.code));
}

ngx_int_t send_redirect(ngx_http_request_t* r, std::string_view location) {
    ngx_table_elt_t* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    h->hash = 1;
    unlink_header(h);
    ngx_str_set(&h->key, "Location");
    h->value = to_ngx(r->pool, location);
    if (h->value.data == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->headers_out.location = h;
    return send_body(r, NGX_HTTP_MOVED_TEMPORARILY, "text/plain", "");
}

ngx_int_t answered_in_access_phase(ngx_http_request_t* r, ngx_int_t rc) {
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}

void finish_parked(ngx_http_request_t* r, ngx_int_t rc) {
    ngx_connection_t* c = r->connection;
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

}  // namespace spotauth_ngx
