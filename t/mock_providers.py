#!/usr/bin/python3
"""Mock of the token and profile endpoints of Kakao, Naver, Google and
GitHub, each shaped like the real one, for spotauth_provider's tests
(t/integration/test_providers_presets.py).

It is mock_spotify.py's server (its users, codes, tokens, counters, request
log and control API under /_mock/) with each provider's own paths and
dialect on top:

Kakao   POST /oauth/token        client_id and client_secret in the form body
                                 only: an Authorization header is refused
                                 (401 invalid_client, KOE010); "token_type":
                                 "bearer", "refresh_token_expires_in"; a
                                 refresh answer has no new refresh_token
        GET  /v2/user/me         {"id": <integer>, "properties": {"nickname"},
                                 "kakao_account": {"profile": {"nickname"}}}
Naver   POST /oauth2.0/token     credentials in the body; "expires_in" a string
                                 ("3600"), no "scope"; errors answered with 200
        GET  /v1/nid/me          {"resultcode": "00", "message": "success",
                                 "response": {"id", "nickname", "name"}}
Google  POST /token              credentials in the body or as Basic; an
                                 "id_token"; a refresh_token only for a code
                                 authorized with access_type=offline and
                                 prompt=consent
        GET  /v1/userinfo        {"sub", "name", ...}
GitHub  POST /login/oauth/access_token
                                 credentials in the body; JSON only with
                                 "Accept: application/json" (a form otherwise);
                                 no expires_in, no refresh_token; errors with 200
        GET  /user               needs a User-Agent; {"id": <integer>, "login",
                                 "name"}

Consent is /authorize/decide as in mock_spotify.py (any scope is accepted;
Google's access_type and prompt are remembered with the code).

Names: users minji and jiho have Hangul names (NICKNAMES); profiles carry
them as raw UTF-8, or with "\\uXXXX" escapes after
POST /_mock/shape {"ascii_json": true}. POST /_mock/shape {"token_error":
"invalid_request"} makes the next token call of any provider answer that
error in the provider's way (status 200 for Naver and GitHub); {"token_error":
null} clears it.

Run: /usr/bin/python3 t/mock_providers.py --port 0 --client-id ID
         --client-secret-file PATH
It prints "mock_providers listening on http://HOST:PORT" once bound.
"""
import json
import sys
import threading
from urllib.parse import urlencode

from support.mock_spotify.accounts import oauth_error
from support.mock_spotify.accounts_service import authorize_params
from support.mock_spotify.api import ApiError, github_user_id, google_subject
from support.mock_spotify.parsing import (FormError, basic_credentials, bearer_token, parse_form,
                                          valid_redirect_uri, with_query)
from support.mock_spotify.replies import Reply, control_error, error_page, json_reply, redirect, token_reply
from support.mock_spotify.server import MockHandler, MockServer, parse_args, serve_until_stopped
from support.mock_spotify.state import MockState

NICKNAMES = {"minji": "김민지", "jiho": "이지호 🎵"}

KAKAO_TOKEN, KAKAO_ME = "/oauth/token", "/v2/user/me"
NAVER_TOKEN, NAVER_ME = "/oauth2.0/token", "/v1/nid/me"
GOOGLE_TOKEN, GOOGLE_ME = "/token", "/v1/userinfo"
GITHUB_TOKEN, GITHUB_ME = "/login/oauth/access_token", "/user"
TOKEN_PATHS = {KAKAO_TOKEN: "kakao", NAVER_TOKEN: "naver", GOOGLE_TOKEN: "google", GITHUB_TOKEN: "github"}
PROFILE_PATHS = {KAKAO_ME: "kakao", NAVER_ME: "naver", GOOGLE_ME: "google", GITHUB_ME: "github"}


def numeric_id(user):
    """Kakao's and GitHub's ids are integers (Kakao's beyond 32 bits)."""
    return 4_000_000_000 + github_user_id(user)


def profile(shape, user, name):
    if shape == "kakao":
        return {"id": numeric_id(user), "connected_at": "2026-01-01T00:00:00Z", "properties": {"nickname": name},
                "kakao_account": {"profile_nickname_needs_agreement": False,
                                  "profile": {"nickname": name, "is_default_nickname": False}}}
    if shape == "naver":
        return {"resultcode": "00", "message": "success",
                "response": {"id": "naver-" + google_subject(user), "nickname": name, "name": name}}
    if shape == "google":
        return {"sub": google_subject(user), "name": name, "email": f"{user}@example.com"}
    return {"id": numeric_id(user), "login": user, "name": name, "type": "User"}


class ProviderHandler(MockHandler):
    server_version = "mock_providers/1.0"
    token_paths = tuple(TOKEN_PATHS)

    def _route(self, path, query, body):
        if path == "/_mock/reset":
            self.server.reset_shape()
        if path == "/authorize/decide":
            return self._decide_any_scope(query)
        if path in TOKEN_PATHS:
            return self._provider_token(TOKEN_PATHS[path], body) if self.command == "POST" else self._token_405()
        if path in PROFILE_PATHS:
            return self._provider_profile(PROFILE_PATHS[path])
        if path == "/_mock/shape" and self.command == "POST":
            return self._set_shape(body)
        return super()._route(path, query, body)

    # -- consent ----------------------------------------------------------------

    def _decide_any_scope(self, query):
        params = authorize_params(query)
        if params.get("client_id") != self.state.client_id or not valid_redirect_uri(
                params.get("redirect_uri", "")):
            return error_page(400, "invalid client or redirect URI")
        user = query.get("user", "alice")
        code = self.state.issue_code(params, user)
        if query.get("access_type") == "offline" and query.get("prompt") == "consent":
            with self.server.shape_lock:
                self.server.offline_codes.add(code)
        result = {"code": code, "state": params.get("state", "")}
        return redirect(with_query(params["redirect_uri"], result))

    # -- token endpoints -----------------------------------------------------------

    def _client_in_body(self, form):
        return form.get("client_id", ""), form.get("client_secret", "")

    def _provider_token(self, shape, body):
        try:
            form = parse_form(body)
        except FormError as exc:
            return self._provider_error(shape, "invalid_request", str(exc))
        self.state.count_token_call(form.get("grant_type"))
        with self.server.shape_lock:
            forced, self.server.token_error = self.server.token_error, None
        if forced:
            return self._provider_error(shape, forced, "forced by the test")
        if shape == "kakao" and self.headers.get("Authorization"):
            return self._provider_error(shape, "invalid_client", "credentials belong in the body", 401)
        credentials = self._client_in_body(form)
        if shape == "google" and not form.get("client_secret"):
            credentials = basic_credentials(self.headers.get("Authorization"))
        if not self.state.client_ok(credentials):
            return self._provider_error(shape, "invalid_client", "bad client credentials", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            status, payload = self.state.redeem_code(credentials[0], form)
        elif grant_type == "refresh_token" and shape != "github":
            status, payload = self.state.refresh(credentials[0], form)
        else:
            status, payload = oauth_error("unsupported_grant_type", "grant_type")
        if "error" in payload:
            return self._provider_error(shape, payload["error"], payload["error_description"], status)
        return self._token_answer(shape, payload, form)

    def _token_answer(self, shape, payload, form):
        payload = dict(payload, token_type="bearer")
        if shape == "kakao":
            payload["refresh_token_expires_in"] = 5_183_999
        elif shape == "naver":
            payload["expires_in"] = str(payload["expires_in"])
            del payload["scope"]
        elif shape == "google":
            payload["token_type"] = "Bearer"
            payload["id_token"] = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
            with self.server.shape_lock:
                offline = form.get("code") in self.server.offline_codes
            if form.get("grant_type") == "authorization_code" and not offline:
                payload.pop("refresh_token", None)
        elif shape == "github":
            payload = {"access_token": "gho_" + payload["access_token"], "token_type": "bearer",
                       "scope": payload["scope"]}
            self._alias_github_token(payload["access_token"])
            if "application/json" not in (self.headers.get("Accept") or ""):
                return Reply(200, urlencode(payload).encode(), "application/x-www-form-urlencoded")
        return token_reply(200, payload)

    def _alias_github_token(self, token):
        # GitHub's tokens start with gho_: the same grant, under that name.
        with self.state._lock:
            record = self.state._access_tokens[token[len("gho_"):]]
            self.state._access_tokens[token] = record

    def _provider_error(self, shape, error, description, status=400):
        if shape in ("naver", "github"):
            status = 200
        payload = {"error": error, "error_description": description}
        if shape == "kakao":
            payload["error_code"] = "KOE010" if error == "invalid_client" else "KOE320"
        return token_reply(status, payload)

    # -- profiles -------------------------------------------------------------------

    def _provider_profile(self, shape):
        if shape == "github" and not self.headers.get("User-Agent"):
            return json_reply(403, {"message": "Request forbidden by administrative rules."})
        token = bearer_token(self.headers.get("Authorization"))
        try:
            user, display_name, _ = self.state.authenticate(token or "")
        except ApiError as exc:
            return json_reply(exc.status, {"error": "invalid_token", "message": exc.message})
        name = NICKNAMES.get(user, display_name)
        ascii_json = self.server.ascii_json
        body = json.dumps(profile(shape, user, name), ensure_ascii=ascii_json).encode()
        return Reply(200, body, "application/json;charset=UTF-8")

    def _set_shape(self, body):
        try:
            patch = json.loads(body or b"{}")
        except ValueError:
            return control_error(400, "body must be JSON")
        with self.server.shape_lock:
            if "ascii_json" in patch:
                self.server.ascii_json = bool(patch["ascii_json"])
            if "token_error" in patch:
                self.server.token_error = patch["token_error"]
            return json_reply(200, {"ascii_json": self.server.ascii_json,
                                    "token_error": self.server.token_error})


class ProviderServer(MockServer):
    def __init__(self, address, state, verbose):
        super().__init__(address, state, verbose)
        self.RequestHandlerClass = ProviderHandler
        self.shape_lock = threading.Lock()
        self.reset_shape()

    def reset_shape(self):
        with self.shape_lock:
            self.offline_codes = set()
            self.ascii_json = False
            self.token_error = None


def main(argv=None):
    args = parse_args(argv)
    state = MockState(args.client_id, args.client_secret, args.access_ttl, args.rotate_refresh)
    return serve_until_stopped(ProviderServer((args.host, args.port), state, args.verbose), "mock_providers",
                               args.host)


if __name__ == "__main__":
    sys.exit(main())
