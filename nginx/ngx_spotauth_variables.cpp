// The module's variables (see ngx_spotauth_variables.hpp). They read the
// request's state; where no spotauth handler ran (log_format in an
// unprotected location), the session cookie is read on first use.
#include "ngx_spotauth_variables.hpp"

#include "ngx_spotauth_request.hpp"
#include "ngx_spotauth_worker.hpp"

namespace spotauth_ngx {
namespace {

enum VariableKind : uintptr_t { kVarUser, kVarUserName, kVarStatus, kVarAccessToken, kVarProduct, kVarCountry };

RequestState* state_for_variables(ngx_http_request_t* r) {
    const Settings* s = settings_of(r);
    RequestState* state = s != nullptr && worker() != nullptr ? request_state(r) : existing_request_state(r);
    if (state != nullptr && !state->loaded() && s != nullptr && worker() != nullptr) {
        state->load(*s);
    }
    return state;
}

// A view into the state (which lives as long as the request).
std::string_view variable_value(const RequestState* state, uintptr_t kind) {
    const SessionStatus status = state != nullptr ? state->status() : SessionStatus::none;
    if (kind == kVarStatus) {
        return status_name(status);
    }
    const spotauth::Session* session = state != nullptr ? state->session() : nullptr;
    if (session == nullptr) {
        return {};
    }
    switch (kind) {
        case kVarUser: return session->user_id;
        case kVarUserName: return session->display_name;
        case kVarProduct: return session->product;
        case kVarCountry: return session->country;
        case kVarAccessToken:
            return status == SessionStatus::valid || status == SessionStatus::refreshed
                       ? std::string_view(session->access_token)
                       : std::string_view();
        default: return {};
    }
}

ngx_int_t get_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t kind) noexcept {
    return c_boundary(r->connection->log, "a spotauth variable", NGX_ERROR, [&] {
        // A copy in the pool: a refresh later in the request replaces the
        // session the value came from.
        const ngx_str_t copy = to_ngx(r->pool, variable_value(state_for_variables(r), kind));
        v->no_cacheable = 1;
        if (copy.len == 0) {
            v->not_found = 1;
            return copy.data != nullptr ? NGX_OK : NGX_ERROR;
        }
        if (copy.data == nullptr) {
            return NGX_ERROR;
        }
        v->data = copy.data;
        v->len = static_cast<unsigned>(copy.len) & 0x0FFFFFFFu;  // the 28-bit field; values are far shorter
        v->valid = 1;
        v->not_found = 0;
        return NGX_OK;
    });
}

ngx_http_variable_t variables[] = {
    {ngx_string("spotauth_user"), nullptr, get_variable, kVarUser, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("spotauth_user_name"), nullptr, get_variable, kVarUserName, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("spotauth_session_status"), nullptr, get_variable, kVarStatus, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("spotauth_access_token"), nullptr, get_variable, kVarAccessToken, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("spotauth_user_product"), nullptr, get_variable, kVarProduct, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("spotauth_user_country"), nullptr, get_variable, kVarCountry, NGX_HTTP_VAR_NOCACHEABLE, 0},
    ngx_http_null_variable};

}  // namespace

ngx_int_t add_variables(ngx_conf_t* cf) {
    for (ngx_http_variable_t* v = variables; v->name.len != 0; ++v) {
        ngx_http_variable_t* var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == nullptr) {
            return NGX_ERROR;
        }
        var->get_handler = v->get_handler;
        var->data = v->data;
    }
    return NGX_OK;
}

}  // namespace spotauth_ngx
