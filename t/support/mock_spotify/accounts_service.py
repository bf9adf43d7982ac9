"""The mock's accounts service (accounts.spotify.com): the consent page of
/authorize, its /authorize/decide target and the /api/token grants."""
import html
import time

from support.mock_spotify.accounts import PKCE_VALUE_RE, SCOPES, USER_NAME_RE, oauth_error
from support.mock_spotify.faults import token_fault_reply
from support.mock_spotify.parsing import FormError, basic_credentials, parse_form, valid_redirect_uri, with_query
from support.mock_spotify.replies import error_page, html_reply, redirect, token_reply

DEFAULT_CONSENT_HINT = "Try alice, bob, carol or any other name."


def consent_page(params, hint=DEFAULT_CONSENT_HINT):
    """Spotify's "<client> wants to access your Spotify account" page; `hint`
    is the line under the user field (--consent-hint)."""
    scopes = params.get("scope", "").split()
    items = "".join(f"<li>{html.escape(SCOPES[scope])}</li>" for scope in scopes) \
        or "<li>View your public profile information</li>"
    hidden = "".join(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">\n'
                     for name, value in params.items())
    client = html.escape(params["client_id"])
    content = f"""<h1>{client} wants to access your Spotify account</h1>
<p>You agree that {client} will be able to:</p>
<ul>{items}</ul>
<form method="post" action="/authorize/decide">
{hidden}<label for="user">Log in as</label>
<input id="user" name="user" value="alice" autocomplete="username">
<p id="hint">{html.escape(hint)}</p>
<div class="buttons">
<button name="decision" value="agree" id="agree">Agree</button>
<button name="decision" value="cancel" id="cancel">Cancel</button>
</div>
</form>"""
    return html_reply(200, "Authorize - Spotify", content)


def authorize_params(query):
    """The /authorize parameters carried through the consent form."""
    names = ("client_id", "response_type", "redirect_uri", "scope", "state",
             "code_challenge", "code_challenge_method", "show_dialog")
    return {name: query[name] for name in names if name in query}


def authorize_problem(params, client_id):
    """The error answer for bad /authorize parameters, or None when valid."""
    if params.get("client_id") != client_id:
        return error_page(400, "INVALID_CLIENT: Invalid client")
    if not valid_redirect_uri(params.get("redirect_uri", "")):
        return error_page(400, "INVALID_CLIENT: Invalid redirect URI")
    if params.get("response_type") != "code":
        return redirect_error(params, "unsupported_response_type")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if (challenge or method) and (method != "S256" or not PKCE_VALUE_RE.fullmatch(challenge or "")):
        return redirect_error(params, "invalid_request")
    if any(scope not in SCOPES for scope in params.get("scope", "").split()):
        return redirect_error(params, "invalid_scope")
    return None


def redirect_error(params, error):
    result = {"error": error}
    if "state" in params:
        result["state"] = params["state"]
    return redirect(with_query(params["redirect_uri"], result))


class AccountsRoutes:
    """MockHandler's accounts service routes."""

    def _authorize(self, query):
        params = authorize_params(query)
        return authorize_problem(params, self.state.client_id) or consent_page(params, self.server.consent_hint)

    def _decide(self, query, body):
        if self.command == "GET":
            fields = query
        elif self.command == "POST":
            try:
                fields = parse_form(body)
            except FormError as exc:
                return error_page(400, f"INVALID_REQUEST: {exc}")
        else:
            return self._page_405("GET, POST")
        params = authorize_params(fields)
        problem = authorize_problem(params, self.state.client_id)
        if problem:
            return problem
        decision = fields.get("decision")
        if decision == "cancel":
            return redirect_error(params, "access_denied")
        if decision != "agree":
            return error_page(400, "INVALID_REQUEST: decision must be agree or cancel")
        user = fields.get("user", "alice").strip()
        if not USER_NAME_RE.fullmatch(user):
            return error_page(400, "INVALID_REQUEST: Invalid user name")
        result = {"code": self.state.issue_code(params, user)}
        if "state" in params:
            result["state"] = params["state"]
        return redirect(with_query(params["redirect_uri"], result))

    def _token(self, body):
        form_error = None
        try:
            if self.headers.get_content_type() != "application/x-www-form-urlencoded":
                raise FormError("Content-Type must be application/x-www-form-urlencoded")
            form = parse_form(body)
        except FormError as exc:
            form, form_error = {}, str(exc)
        delay, fault = self.state.count_token_call(form.get("grant_type"))
        if delay:
            time.sleep(delay)
        if fault and fault != "drip":
            return token_fault_reply(fault, self.state.config()["access_ttl"])
        reply = self._token_grant(form, form_error)
        if fault == "drip":
            reply.pace = "drip"
        return reply

    def _token_grant(self, form, form_error):
        credentials = basic_credentials(self.headers.get("Authorization"))
        if not self.state.client_ok(credentials):
            return token_reply(*oauth_error("invalid_client", "Invalid client"))
        if form_error:
            return token_reply(*oauth_error("invalid_request", form_error))
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return token_reply(*self.state.redeem_code(credentials[0], form))
        if grant_type == "refresh_token":
            return token_reply(*self.state.refresh(credentials[0], form))
        if not grant_type:
            return token_reply(*oauth_error("unsupported_grant_type",
                                            "grant_type parameter is missing"))
        return token_reply(*oauth_error("unsupported_grant_type",
                                        "grant_type must be authorization_code or refresh_token"))
