"""The frontend contract: /auth/session, /auth/token, /auth/logout and
`spotauth redirect` pages."""
import pytest
import requests

from conftest import consent, login, query_params
from support.sessions import claims, logged_in_with_expiring_token, refresh_calls

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}


def test_session_signed_out(server):
    r = server.get("/auth/session")
    assert r.status_code == 200
    assert r.json() == {"authenticated": False}
    assert r.headers["Cache-Control"] == "no-store"


def test_session_signed_in_never_shows_tokens(server, mock):
    session, _ = login(server, user="bob")
    r = server.get("/auth/session", session=session)
    body = r.json()
    assert body["authenticated"] is True
    assert body["user"] == {"id": "bob", "display_name": "Bob Dylan"}
    c = claims(server, session.cookies["spotauth"])
    assert body["expires_at"] == c["exp"]
    assert c["access_token"] not in r.text and c["refresh_token"] not in r.text


def test_session_reports_a_revoked_session(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    mock.post("/_mock/revoke", {"user": "alice"})
    r = server.get("/auth/session", session=session)
    assert r.json() == {"authenticated": False, "error": "refresh_failed"}
    assert "spotauth=; Path=/; Max-Age=0" in r.headers["Set-Cookie"]


def test_session_reports_a_transient_failure_and_keeps_the_session(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    mock.configure(token_fault="500", token_fault_count=2)
    r = server.get("/auth/session", session=session)
    body = r.json()
    assert body["authenticated"] is True
    assert body["error"] == "token_endpoint_unavailable"
    assert "Max-Age=0" not in r.headers.get("Set-Cookie", "")


def test_session_with_garbage_cookie_is_signed_out(server):
    r = server.get("/auth/session", cookies={"spotauth": "garbage"})
    assert r.json() == {"authenticated": False}
    assert "spotauth=; Path=/; Max-Age=0" in r.headers["Set-Cookie"]


def test_token_returns_access_token_only(server, mock):
    session, _ = login(server)
    r = server.get("/auth/token", session=session, headers=SAME_ORIGIN)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in r.headers
    body = r.json()
    c = claims(server, session.cookies["spotauth"])
    assert set(body) == {"access_token", "expires_in"}
    assert body["access_token"] == c["access_token"]
    assert 3500 < body["expires_in"] <= 3600
    assert c["refresh_token"] not in r.text


def test_token_refreshes_when_needed(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    r = server.get("/auth/token", session=session, headers=SAME_ORIGIN)
    assert r.status_code == 200
    assert refresh_calls(mock) == 1
    assert r.json()["access_token"] == claims(server, session.cookies["spotauth"])["access_token"]
    assert r.json()["expires_in"] > 3000


def test_token_failures_are_structured(server, mock):
    assert server.get("/auth/token", headers=SAME_ORIGIN).json() == {
        "access_token": None, "error": "not_authenticated"}
    session = logged_in_with_expiring_token(server, mock)
    mock.configure(token_fault="503", token_fault_count=2)
    r = server.get("/auth/token", session=session, headers=SAME_ORIGIN)
    assert r.status_code == 503
    assert r.json() == {"access_token": None, "error": "token_endpoint_unavailable"}
    mock.configure(token_fault=None)
    mock.post("/_mock/revoke", {"user": "alice"})
    r = server.get("/auth/token", session=session, headers=SAME_ORIGIN)
    assert r.status_code == 401
    assert r.json() == {"access_token": None, "error": "refresh_failed"}


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
])
def test_token_refuses_cross_site_callers(server, headers):
    session, _ = login(server)
    r = server.get("/auth/token", session=session, headers=headers)
    assert r.status_code == 403
    assert r.json() == {"access_token": None, "error": "cross_site_request"}


def test_token_accepts_matching_origin(server):
    session, _ = login(server)
    r = server.get("/auth/token", session=session, headers={"Origin": server.base})
    assert r.status_code == 200


def test_origin_check_compares_the_scheme(server):
    # Same host and port, other scheme: another origin. The scheme is the
    # connection's; X-Forwarded-Proto does not change it.
    session, _ = login(server)
    https_origin = "https://127.0.0.1:%d" % server.port
    r = server.get("/auth/token", session=session,
                   headers={"Origin": https_origin, "X-Forwarded-Proto": "https"})
    assert r.status_code == 403
    assert r.json()["error"] == "cross_site_request"
    r = session.post(server.base + "/auth/logout", headers={"Origin": https_origin}, allow_redirects=False)
    assert r.status_code == 403
    assert server.get("/api/spotify/v1/me", session=session).status_code == 200


def test_origin_check_over_tls(make_nginx):
    n = make_nginx(tls=True).start()

    def token_status(origin):
        return requests.get(n.tls_base + "/auth/token", headers={"Origin": origin}, verify=str(n.cert),
                            timeout=10).status_code

    assert token_status(n.tls_base) == 401  # same origin: on to the (absent) session
    assert token_status("http://127.0.0.1:%d" % n.tls_port) == 403


def test_logout_by_fetch_answers_204_and_clears(server):
    session, _ = login(server)
    r = requests.post(server.base + "/auth/logout", cookies=session.cookies, headers=SAME_ORIGIN,
                      allow_redirects=False)
    assert r.status_code == 204
    cleared = r.raw.headers.getlist("Set-Cookie")
    assert any(c.startswith("spotauth=;") and "Max-Age=0" in c for c in cleared)


def test_logout_by_form_redirects_to_validated_return_to(server):
    session, _ = login(server)
    nav = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"}
    r = session.post(server.base + "/auth/logout?return_to=/bye", headers=nav, allow_redirects=False)
    assert r.status_code == 302
    # Back to the site with the reason for the page to show (docs/frontend.md).
    assert r.headers["Location"] == f"{server.base}/bye?spotauth_notice=logged_out"
    assert server.get("/api/spotify/v1/me", session=session).status_code == 401
    r = session.post(server.base + "/auth/logout?return_to=//evil.example", headers=nav,
                     allow_redirects=False)
    assert r.headers["Location"] == f"{server.base}/?spotauth_notice=logged_out"
    r = session.post(server.base + "/auth/logout?return_to=%2Fa%3Fb%3Dc", headers=nav, allow_redirects=False)
    assert r.headers["Location"] == f"{server.base}/a?b=c&spotauth_notice=logged_out"


def test_logout_refuses_cross_site_and_get(server):
    session, _ = login(server)
    r = session.post(server.base + "/auth/logout", headers={"Origin": "https://evil.example"},
                     allow_redirects=False)
    assert r.status_code == 403
    assert "Set-Cookie" not in r.headers
    assert server.get("/auth/logout", session=session).status_code == 405
    assert server.get("/api/spotify/v1/me", session=session).status_code == 200


def test_protected_page_redirects_to_login_and_back(server, mock):
    r = server.get("/dashboard.html?tab=top")
    assert r.status_code == 302
    assert r.headers["Location"] == f"{server.base}/auth/login?return_to=%2Fdashboard.html%3Ftab%3Dtop"
    session = requests.Session()
    r = session.get(r.headers["Location"], allow_redirects=False)
    r = session.get(consent(mock, query_params(r.headers["Location"])), allow_redirects=False)
    assert r.headers["Location"] == f"{server.base}/dashboard.html?tab=top"
    assert server.get("/dashboard.html?tab=top", session=session).text == "dashboard\n"


def test_protected_page_strips_module_cookies_upstream(make_nginx):
    # A proxied page (`spotauth redirect`): nginx itself plays the upstream
    # and reports the Cookie header it received.
    n = make_nginx(server_extra="""
        location = /page {
            spotauth redirect;
            proxy_pass http://127.0.0.1:$server_port/upstream-cookie;
        }
        location = /upstream-cookie { return 200 "cookie=[$http_cookie]\\n"; }""").start()
    session, _ = login(n)
    session.cookies.set("theme", "dark")
    session.cookies.set("spotauth_login_0123456789abcdef", "leftover")
    r = n.get("/page", session=session)
    assert r.status_code == 200
    assert "theme=dark" in r.text
    assert "spotauth" not in r.text, r.text


def test_protected_page_with_bad_cookie_redirects_and_clears(server):
    r = server.get("/dashboard.html", cookies={"spotauth": "tampered"})
    assert r.status_code == 302
    assert "spotauth=; Path=/; Max-Age=0" in r.headers["Set-Cookie"]
