"""/auth/login and /auth/callback against the mock Spotify."""
import re
import shutil
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import CLIENT_ID, consent, login, login_cookie, start_login


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
    assert re.match(r"spotauth_login_[A-Za-z0-9_-]{16}=", cookie)
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
    assert any(re.match(r"spotauth_login_[\w-]{16}=;", c) and "Max-Age=0" in c for c in cookies)
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


def login_cookie_names(session):
    return [c.name for c in session.cookies if c.name.startswith("spotauth_login")]


@pytest.mark.parametrize("order", ["first_tab_first", "second_tab_first"])
def test_two_tabs_sign_in_at_once(server, mock, order):
    """Two logins started in one browser (two tabs) each keep their own
    login cookie: both callbacks succeed, in either order, and each clears
    only its own cookie."""
    session = requests.Session()
    tabs = [(start_login(server, session, return_to="/tab1"), "/tab1"),
            (start_login(server, session, return_to="/tab2"), "/tab2")]
    assert len(login_cookie_names(session)) == 2
    if order == "second_tab_first":
        tabs.reverse()
    for pending, (params, return_to) in zip((1, 0), tabs):
        r = session.get(consent(mock, params), allow_redirects=False)
        assert r.status_code == 302, r.text
        assert r.headers["Location"].endswith(return_to)
        assert any(c.startswith("spotauth=") for c in set_cookies(r))
        cleared = [c for c in set_cookies(r) if c.startswith("spotauth_login")]
        assert len(cleared) == 1 and "Max-Age=0" in cleared[0]
        assert len(login_cookie_names(session)) == pending
    assert mock.stats()["token_calls"]["authorization_code"] == 2
    assert server.get("/api/spotify/v1/me", session=session).status_code == 200


def test_replay_of_either_of_two_logins_fails(server, mock):
    session = requests.Session()
    tabs = [start_login(server, session), start_login(server, session)]
    kept = {c.name: c.value for c in session.cookies if c.name.startswith("spotauth_login")}
    callbacks = [consent(mock, params) for params in tabs]
    for callback in callbacks:
        assert session.get(callback, allow_redirects=False).status_code == 302
    for callback in callbacks:
        # With both login cookies kept back: the state is used up on the server.
        r = requests.get(callback, cookies=kept, allow_redirects=False, timeout=10)
        assert r.status_code == 400
        assert r.json()["error"] == "invalid_state"
    assert mock.stats()["token_calls"]["authorization_code"] == 2


def test_a_fourth_pending_login_clears_the_oldest(server, mock):
    session = requests.Session()
    tabs = [start_login(server, session) for _ in range(3)]
    names = login_cookie_names(session)
    assert len(names) == 3
    fourth = server.get("/auth/login", session=session)
    assert fourth.status_code == 302
    cleared = [c.split("=", 1)[0] for c in set_cookies(fourth) if "Max-Age=0" in c]
    assert cleared == [names[0]]
    assert len(login_cookie_names(session)) == 3
    # The oldest login has lost its cookie; the other two still work.
    assert session.get(consent(mock, tabs[0]), allow_redirects=False).status_code == 400
    for params in tabs[1:]:
        assert session.get(consent(mock, params), allow_redirects=False).status_code == 302


def test_a_login_cookie_stays_small_whatever_return_to(server):
    r = server.get("/auth/login", params={"return_to": "/" + "p" * 2000})
    (cookie,) = set_cookies(r)
    assert len(cookie) <= 1024


def test_logout_clears_every_login_cookie(server, mock):
    session, _ = login(server)
    start_login(server, session)
    start_login(server, session)
    assert len(login_cookie_names(session)) == 2
    r = session.post(server.base + "/auth/logout", headers={"Sec-Fetch-Site": "same-origin"}, timeout=10)
    assert r.status_code == 204
    assert login_cookie_names(session) == []
    assert "spotauth" not in session.cookies


def test_replayed_code_is_refused(server, mock):
    session = requests.Session()
    params = start_login(server, session)
    name, value = login_cookie(session)
    callback = consent(mock, params)
    assert session.get(callback, allow_redirects=False).status_code == 302
    # Replaying the same callback: the login cookie is gone...
    assert session.get(callback, allow_redirects=False).status_code == 400
    # ...and one who kept it is refused before any token call: the state
    # was used up on the server.
    r = requests.get(callback, cookies={name: value}, allow_redirects=False)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_state"
    assert not any(c.startswith("spotauth=") for c in set_cookies(r))
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
    assert all(c.value not in log for c in session.cookies if c.value)


def test_login_only_answers_get(server):
    assert requests.post(server.base + "/auth/login").status_code == 405
    assert requests.post(server.base + "/auth/callback").status_code == 405


def test_secure_mode_uses_host_prefix_and_secure(make_nginx):
    n = make_nginx(secure=True).start()
    r = n.get("/auth/login")
    (cookie,) = set_cookies(r)
    assert re.match(r"__Host-spotauth_login_[\w-]{16}=", cookie)
    assert "; Secure" in cookie


# --- a flood of /auth/login costs the server nothing -------------------------
# A pending login lives in its own sealed cookie; the server records a
# state only when it is spent, at the callback. So anonymous logins, however
# many, cannot push a real user's pending login out of a small zone.

@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (build.sh installs it)")
def test_a_flood_of_logins_does_not_break_a_pending_sign_in(make_nginx, mock):
    n = make_nginx(workers=2, http_extra="    spotauth_zone spotauth:64k;").start()
    session = requests.Session()
    callback = consent(mock, start_login(n, session))  # the user is on the consent page
    kept = login_cookie(session)
    flooded = 0
    deadline = time.monotonic() + 120
    while flooded < 100_000:
        assert time.monotonic() < deadline, f"only {flooded} logins in 120 s"
        out = subprocess.run(["wrk", "-t", "1", "-c", "50", "-d", "10s", "--timeout", "5s",
                              f"{n.base}/auth/login"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "Socket errors" not in out.stdout, out.stdout
        # /auth/login answers 302: wrk counts it as a success.
        assert "Non-2xx or 3xx responses" not in out.stdout, out.stdout
        flooded += int(re.search(r"(\d+) requests in", out.stdout).group(1))
    r = session.get(callback, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    assert n.get("/api/spotify/v1/me", session=session).status_code == 200
    # ...and its state is spent: the same callback again is refused.
    replay = requests.get(callback, cookies=dict([kept]), allow_redirects=False, timeout=10)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_state"
