"""/auth/login and /auth/callback against the mock Spotify."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import CLIENT_ID, consent, login, start_login


def set_cookies(response):
    return response.raw.headers.getlist("Set-Cookie")


def test_login_redirects_to_authorize_with_state_and_pkce(server):
    r = server.get("/auth/login", params={"return_to": "/dashboard"})
    assert r.status_code == 302
    assert r.headers["Cache-Control"] == "no-store"
    url = urlsplit(r.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"http://{server.mock.hostport}/authorize"
    q = parse_qs(url.query)
    assert q["client_id"] == [CLIENT_ID]
    assert q["response_type"] == ["code"]
    assert q["redirect_uri"] == [f"{server.base}/auth/callback"]
    assert q["scope"] == ["user-read-email user-top-read"]
    assert q["code_challenge_method"] == ["S256"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"][0])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["state"][0])  # 256 bits
    (cookie,) = set_cookies(r)
    assert cookie.startswith("spotauth_login=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Max-Age=600" in cookie


def test_each_login_gets_fresh_state_and_verifier(server):
    a = start_login(server, requests.Session())
    b = start_login(server, requests.Session())
    assert a["state"] != b["state"]
    assert a["code_challenge"] != b["code_challenge"]


def test_full_login_sets_session_and_returns_to_page(server):
    session, r = login(server, return_to="/dashboard?tab=top")
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/dashboard?tab=top")
    cookies = set_cookies(r)
    session_cookie = next(c for c in cookies if c.startswith("spotauth="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Path=/" in session_cookie
    assert f"Max-Age={30 * 86400}" in session_cookie
    assert "Secure" not in session_cookie  # spotauth_cookie_secure off
    # The login cookie is single-use.
    assert any(c.startswith("spotauth_login=;") and "Max-Age=0" in c for c in cookies)
    # The session cookie is a compact JWE: five parts, no readable token.
    value = session.cookies["spotauth"]
    assert value.count(".") == 4
    token_calls = server.mock.stats()["token_calls"]
    assert token_calls["authorization_code"] == 1
    me = server.get("/api/spotify/v1/me", session=session)
    assert me.status_code == 200
    assert me.json()["id"] == "alice"


def test_code_exchange_uses_basic_auth_and_verifier(server, mock):
    login(server)
    (token_call,) = [q for q in mock.recorded() if q["path"].startswith("/api/token")]
    assert token_call["method"] == "POST"
    assert token_call["headers"]["authorization"].startswith("Basic ")
    body = parse_qs(token_call["body"])
    assert body["grant_type"] == ["authorization_code"]
    assert body["redirect_uri"] == [f"{server.base}/auth/callback"]
    assert len(body["code_verifier"][0]) == 43
    assert "client_secret" not in body  # Basic auth only


@pytest.mark.parametrize("hostile", [
    "//evil.example", "/\\evil.example", "https://evil.example", "%2F%2Fevil.example",
    "/ok\r\nSet-Cookie: x=1", "evil.example", "javascript:alert(1)",
])
def test_return_to_only_allows_same_site_paths(server, hostile):
    _, r = login(server, return_to=hostile)
    assert r.status_code == 302
    assert r.headers["Location"] == f"{server.base}/"


def test_state_mismatch_is_rejected(server, mock):
    session = requests.Session()
    params = start_login(server, session)
    callback = consent(mock, {**params, "state": "forged-" + params["state"][7:]})
    r = session.get(callback, allow_redirects=False)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_state"
    assert r.json()["login_url"] == "/auth/login"
    assert mock.stats()["token_calls"]["total"] == 0


def test_callback_without_login_cookie_is_rejected(server, mock):
    params = start_login(server, requests.Session())
    r = requests.get(consent(mock, params), allow_redirects=False)  # another browser
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_state"


def test_callback_state_from_another_login_is_rejected(server, mock):
    session = requests.Session()
    first = start_login(server, session)
    start_login(server, session)  # a second login replaces the transaction
    r = session.get(consent(mock, first), allow_redirects=False)
    assert r.status_code == 400


def test_replayed_code_is_refused(server, mock):
    session = requests.Session()
    params = start_login(server, session)
    login_cookie = session.cookies["spotauth_login"]
    callback = consent(mock, params)
    assert session.get(callback, allow_redirects=False).status_code == 302
    # Replaying the same callback: the login cookie is gone...
    assert session.get(callback, allow_redirects=False).status_code == 400
    # ...and one who kept it is refused before any token call: the state
    # was used up on the server.
    r = requests.get(callback, cookies={"spotauth_login": login_cookie}, allow_redirects=False)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_state"
    assert "spotauth=" not in r.headers.get("Set-Cookie", "").replace("spotauth_login=", "")
    assert mock.stats()["token_calls"]["authorization_code"] == 1


def test_provider_access_denied_is_clear_not_a_loop(server, mock):
    session = requests.Session()
    callback = consent(mock, start_login(server, session), decision="cancel")
    r = session.get(callback, allow_redirects=False)
    assert r.status_code == 403
    assert r.json()["error"] == "access_denied"
    assert "Location" not in r.headers
    # A browser navigation gets a page with a way back in.
    callback = consent(mock, start_login(server, session), decision="cancel")
    page = session.get(callback, allow_redirects=False, headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert page.headers["Content-Type"].startswith("text/html")
    assert "declined" in page.text and 'href="/auth/login"' in page.text


def test_callback_without_code_is_bad_request(server):
    session = requests.Session()
    params = start_login(server, session)
    r = server.get("/auth/callback", session=session, params={"state": params["state"]})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


@pytest.mark.parametrize("fault", ["500", "html", "garbage", "missing_access_token",
                                   "invalid_client", "close"])
def test_token_endpoint_errors_answer_502_json(server, mock, fault):
    mock.configure(token_fault=fault)
    _, r = login(server)
    assert r.status_code == 502
    assert r.json()["error"] == "token_exchange_failed"
    assert not any(c.startswith("spotauth=") for c in set_cookies(r))
    assert "spotauth: login failed: code exchange" in server.error_log()


def test_token_endpoint_timeout_answers_502(server, mock):
    mock.configure(token_fault="hang")
    _, r = login(server)  # spotauth_timeout 3s in the test config
    assert r.status_code == 502
    assert "timed out" in server.error_log().lower() or "timeout" in server.error_log().lower()


def test_token_endpoint_down_answers_502(make_nginx):
    n = make_nginx(token_url="http://127.0.0.1:1/api/token").start()
    _, r = login(n)
    assert r.status_code == 502
    assert r.json()["error"] == "token_exchange_failed"


def test_errors_never_log_secrets(server, mock):
    mock.configure(token_fault="invalid_client")
    session, _ = login(server)
    log = server.error_log()
    assert mock.client_secret not in log
    assert session.cookies.get("spotauth_login", "") == "" or session.cookies["spotauth_login"] not in log


def test_login_only_answers_get(server):
    assert requests.post(server.base + "/auth/login").status_code == 405
    assert requests.post(server.base + "/auth/callback").status_code == 405


def test_secure_mode_uses_host_prefix_and_secure(make_nginx):
    n = make_nginx(secure=True).start()
    r = n.get("/auth/login")
    (cookie,) = set_cookies(r)
    assert cookie.startswith("__Host-spotauth_login=")
    assert "; Secure" in cookie
