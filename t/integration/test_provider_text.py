"""A hostile or broken provider: ids, display names and tokens with CR/LF,
control characters or absurd lengths never split a header, forge an
error-log line or inject a header upstream (docs/security.md, "Provider
text")."""
import re
import time

import requests

from conftest import login
from session_cookie import seal
from support.sessions import logged_in_with_expiring_token

# Locations that put the user's id and name into a response header and into
# headers sent upstream (nginx itself plays the upstream and reports what
# it received).
NAME_LOCATIONS = """
        location = /name-header {
            add_header X-User $spotauth_user;
            add_header X-User-Name $spotauth_user_name;
            return 200 "ok\\n";
        }
        location = /name-upstream {
            proxy_set_header X-User $spotauth_user;
            proxy_set_header X-User-Name $spotauth_user_name;
            proxy_pass http://127.0.0.1:$server_port/upstream-saw;
        }
        location = /upstream-saw {
            return 200 "user=[$http_x_user] name=[$http_x_user_name] injected=[$http_x_injected]\\n";
        }"""

LOG_PREFIX = re.compile(r"^\S+ \S+ \[\w+\] \d+#\d+: (\*\d+ )?")


def assert_not_split(n, session):
    r = n.get("/name-header", session=session)
    assert r.status_code == 200
    assert "X-Injected" not in r.headers
    assert "\r" not in r.headers["X-User-Name"] and "\n" not in r.headers["X-User-Name"]
    seen = n.get("/name-upstream", session=session).text
    assert "injected=[]" in seen, seen
    return r


def test_crlf_in_name_splits_no_header(make_nginx, mock):
    n = make_nginx(server_extra=NAME_LOCATIONS).start()
    mock.configure(profile_id="mallory", profile_display_name="Mallory\r\nX-Injected: name\u2028\x85")
    session, r = login(n)
    assert r.status_code == 302
    r = assert_not_split(n, session)
    assert r.headers["X-User"] == "mallory"
    assert r.headers["X-User-Name"] == "MalloryX-Injected: name"
    assert n.get("/auth/session", session=session).json()["user"] == {
        "id": "mallory", "display_name": "MalloryX-Injected: name"}


# Ids are exact: each of these was once cleaned into "alice", which let its
# holder pass spotauth_allow_users as alice and reach a backend as alice.
CONTROL_AND_FORMAT_IDS = {
    "TAB": "alice\t", "LF": "alice\n", "CR LF": "alice\r\nX-Injected: id", "NUL": "alice\x00",
    "ESC before": "\x1balice", "DEL": "alice\x7f", "NEL": "alice\x85", "LINE SEPARATOR": "alice\u2028",
    "PARAGRAPH SEPARATOR": "alice\u2029", "ZERO WIDTH JOINER": "alice\u200d", "BOM": "\ufeffalice",
    "RIGHT-TO-LEFT OVERRIDE": "alice\u202e",
}


def test_an_id_with_a_control_or_format_character_is_refused(make_nginx, mock, tmp_path):
    allowed = tmp_path / "users"
    allowed.write_text("alice\n")
    n = make_nginx(server_extra=f"""
        location = /alice-only.html {{
            spotauth on;
            spotauth_allow_users {allowed};
            root html;
            add_header X-User $spotauth_user;
        }}""")
    (n.prefix / "html" / "alice-only.html").write_text("alice only\n")
    n.start()
    for name, provider_id in CONTROL_AND_FORMAT_IDS.items():
        mock.configure(profile_id=provider_id, profile_display_name="Alice")
        session, r = login(n)
        assert r.status_code == 502, name
        assert r.json()["error"] == "profile_unavailable", name
        assert "spotauth" not in session.cookies, name
        assert n.get("/alice-only.html", session=session).status_code == 401, name
    # The real alice signs in and gets through.
    mock.configure(profile_id=None, profile_display_name=None)
    session, r = login(n, user="alice")
    assert r.status_code == 302
    r = n.get("/alice-only.html", session=session)
    assert r.status_code == 200 and r.headers["X-User"] == "alice"


def test_refreshed_access_token_with_crlf_injects_nothing_upstream(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    cookie = session.cookies["spotauth"]
    since, api_calls = time.time(), mock.stats()["api_calls"]
    mock.configure(grant_access_token="BQevil\r\nX-Injected: yes")
    r = server.get("/api/spotify/v1/echo", session=session)
    assert r.status_code == 503
    assert r.json()["error"] == "token_endpoint_unavailable"
    assert "Set-Cookie" not in r.headers  # the session is kept
    assert all("x-injected" not in {k.lower() for k in q["headers"]} for q in mock.recorded(since))
    assert mock.stats()["api_calls"] == api_calls  # nothing was proxied
    mock.configure(grant_access_token=None)
    assert server.get("/api/spotify/v1/echo", cookies={"spotauth": cookie}).status_code == 200


def test_login_with_a_malformed_access_token_fails_cleanly(server, mock):
    mock.configure(grant_access_token="BQ with spaces")
    _, r = login(server)
    assert r.status_code == 502
    assert r.json()["error"] == "token_exchange_failed"
    assert "spotauth" not in re.sub(r"spotauth_login_[\w-]+=;", "", r.headers.get("Set-Cookie", ""))


def test_cookie_sealed_before_the_check_splits_no_header(make_nginx, mock):
    n = make_nginx(server_extra=NAME_LOCATIONS).start()
    now = int(time.time())
    # As a module from before this check could have sealed it.
    claims = {"typ": "session", "sub": "old", "name": "Old\r\nX-Injected: name",
              "access_token": "BQ-old", "refresh_token": "AQ-old",
              "access_expires_at": now + 3600, "iat": now, "exp": now + 86400}
    jar = requests.Session()
    jar.cookies.set("spotauth", seal(n.cookie_key, claims))
    r = assert_not_split(n, jar)
    assert r.headers["X-User-Name"] == "OldX-Injected: name"
    # One whose id was cleaned less strictly than ids are now opens as no session.
    claims["sub"] = "old\u2028"
    jar.cookies.set("spotauth", seal(n.cookie_key, claims))
    r = n.get("/name-header", session=jar)
    assert "X-User" not in r.headers and "X-Injected" not in r.headers


# --- session cookie size (browsers drop cookies over 4096 bytes) -----------

def session_set_cookies(response):
    return [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("spotauth=")]


def test_huge_display_name_is_trimmed_to_fit_the_cookie(server, mock):
    mock.configure(profile_display_name="N" * 5000)
    session, r = login(server)
    assert r.status_code == 302
    (cookie,) = session_set_cookies(r)
    assert len(cookie) <= 4096
    name = server.get("/auth/session", session=session).json()["user"]["display_name"]
    assert name == "N" * len(name) and 0 < len(name) < 5000


def test_4k_access_token_fails_login_cleanly(server, mock):
    mock.configure(grant_access_token="A" * 4096)
    _, r = login(server)
    assert r.status_code == 502
    assert r.json()["error"] == "token_exchange_failed"
    assert not session_set_cookies(r) or all("Max-Age=0" in c for c in session_set_cookies(r))


def test_tokens_too_large_for_a_cookie_fail_login_with_session_too_large(server, mock):
    mock.configure(grant_access_token="A" * 2048, grant_refresh_token="R" * 2048)
    _, r = login(server)
    assert r.status_code == 502
    assert r.json()["error"] == "session_too_large"
    assert not session_set_cookies(r)
    lines = [line for line in server.error_log().splitlines() if "session cookie of" in line]
    assert len(lines) == 1 and "login failed" in lines[0]


def test_refresh_too_large_for_a_cookie_keeps_the_session(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    cookie = session.cookies["spotauth"]
    mock.configure(grant_access_token="A" * 2048, grant_refresh_token="R" * 2048, rotate_refresh=True)
    r = server.get("/api/spotify/v1/me", session=session)
    assert r.status_code == 503
    assert r.json()["error"] == "token_endpoint_unavailable"
    assert not session_set_cookies(r)
    assert session.cookies["spotauth"] == cookie, "the session must be kept as it was"
    assert "session_too_large" in server.error_log()
