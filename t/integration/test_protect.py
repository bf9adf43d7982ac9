"""Protected locations (`spotauth on`): Bearer injection, cookie hygiene,
and "no session" for every kind of bad cookie."""
import base64
import secrets
import time

import pytest
import requests

from conftest import CLIENT_ID, free_port, login, login_cookie
from session_cookie import open_claims, seal, session_claims


def echo(server, session=None, **kw):
    return server.get("/api/spotify/v1/echo", session=session, **kw)


def upstream_token(mock, user="alice"):
    return mock.get("/_mock/tokens", user=user)["access_tokens"][-1]


def test_valid_session_is_proxied_with_bearer(server, mock):
    session, _ = login(server)
    r = server.get("/api/spotify/v1/me/top/artists", session=session)
    assert r.status_code == 200
    assert len(r.json()["items"]) > 0
    seen = echo(server, session).json()["headers"]
    assert seen["authorization"] == "Bearer " + upstream_token(mock)


def test_client_authorization_header_is_replaced(server, mock):
    session, _ = login(server)
    seen = echo(server, session, headers={"Authorization": "Bearer attacker-token"}).json()["headers"]
    assert seen["authorization"] == "Bearer " + upstream_token(mock)


def test_module_cookies_are_stripped_upstream(server):
    session, _ = login(server)
    session.cookies.set("theme", "dark")
    # Every login cookie (one per login in progress) and the single login
    # cookie of earlier versions.
    session.cookies.set("spotauth_login_0123456789abcdef", "leftover")
    session.cookies.set("spotauth_login_fedcba9876543210", "leftover")
    session.cookies.set("spotauth_login", "leftover")
    seen = echo(server, session).json()["headers"]
    assert "spotauth" not in seen.get("cookie", "")
    assert "theme=dark" in seen["cookie"]


def test_only_module_cookie_leaves_an_empty_cookie_header(server):
    session, _ = login(server)
    seen = echo(server, session).json()["headers"]
    assert seen.get("cookie", "") == ""


def test_no_session_answers_401_json(server, mock):
    r = server.get("/api/spotify/v1/me", headers={"Authorization": "Bearer stolen"})
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["error"] == "not_authenticated"
    assert body["login_url"] == "/auth/login"
    assert body["error_description"]
    assert mock.stats()["api_calls"] == 0  # nothing reached upstream


def test_unprotected_location_is_untouched(server):
    assert server.get("/public").text == "public\n"


def tamper(value, position):
    chars = list(value)
    chars[position] = "A" if chars[position] != "A" else "B"
    return "".join(chars)


BAD_COOKIE_KINDS = ["empty", "garbage", "truncated", "flipped_ciphertext", "flipped_tag",
                    "flipped_header", "alg_none", "huge", "not_base64"]


def bad_cookies(good):
    header, _, iv, ciphertext, tag = good.split(".")
    return {
        "empty": "",
        "garbage": "not-a-jwe",
        "truncated": good[: len(good) // 2],
        "flipped_ciphertext": tamper(good, len(header) + 3 + len(iv) + 5),
        "flipped_tag": tamper(good, len(good) - 3),
        "flipped_header": tamper(good, 5),
        "alg_none": base64.urlsafe_b64encode(b'{"alg":"none","enc":"A256GCM"}').decode().rstrip("=")
                    + ".." + iv + "." + ciphertext + "." + tag,
        "huge": secrets.token_urlsafe(6000),  # ~8 KB, unique to this test
        "not_base64": "!!!!.!!!!.!!!!.!!!!.!!!!",
    }


@pytest.mark.parametrize("kind", BAD_COOKIE_KINDS)
def test_bad_cookie_is_no_session_never_5xx(server, mock, kind):
    session, _ = login(server)
    bad = bad_cookies(session.cookies["spotauth"])[kind]
    r = server.get("/api/spotify/v1/me", cookies={"spotauth": bad})
    assert r.status_code == 401
    assert r.json()["error"] == "not_authenticated"
    if bad:
        assert "spotauth=; Path=/; Max-Age=0" in r.headers.get("Set-Cookie", "")
    assert bad[:40] not in server.error_log() or len(bad) < 8


def test_cookie_from_another_key_is_no_session(server, make_nginx):
    session, _ = login(server)
    other = make_nginx().start()  # same mock, different key file
    r = other.get("/api/spotify/v1/me", cookies={"spotauth": session.cookies["spotauth"]})
    assert r.status_code == 401
    assert "session cookie rejected: invalid" in other.error_log()


def site(port, mock, client_id):
    """Another server of the same nginx (same key file), with its own client
    id: a site with its own API location."""
    return f"""
    server {{
        listen 127.0.0.1:{port};
        spotauth_client_id {client_id};
        location = /auth/login {{ spotauth_login; }}
        location /api/spotify/ {{
            spotauth on;
            proxy_pass http://{mock.hostport}/;
            proxy_intercept_errors on;
            error_page 401 = @spotify_replay;
        }}
        location @spotify_replay {{
            spotauth retry;
            rewrite ^/api/spotify/(.*)$ /$1 break;
            proxy_pass http://{mock.hostport};
        }}
    }}"""


def test_a_session_opens_only_on_the_site_it_was_made_for(make_nginx, mock):
    """Two sites share a key file: a cookie of site A gets 401 on site B
    (another client id), even after A's worker has cached it; a site with
    A's client id accepts it. Cookies sealed with the key file's own key
    (before sessions were bound to the client id) get 401: sign in again."""
    other_site, same_client = free_port(), free_port()
    n = make_nginx(http_extra=site(other_site, mock, "other-client") + site(same_client, mock, CLIENT_ID)).start()
    session, _ = login(n)
    cookie = {"spotauth": session.cookies["spotauth"]}
    for _ in range(3):  # opened twice: remembered by the worker's session cache
        assert n.get("/api/spotify/v1/me", cookies=cookie).status_code == 200
    r = requests.get(f"http://127.0.0.1:{other_site}/api/spotify/v1/me", cookies=cookie, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
    r = requests.get(f"http://127.0.0.1:{same_client}/api/spotify/v1/me", cookies=cookie, timeout=10)
    assert r.status_code == 200
    unbound = seal(n.key_text, session_claims("alice", int(time.time())))
    assert n.get("/api/spotify/v1/me", cookies={"spotauth": unbound}).status_code == 401
    assert n.get("/api/spotify/v1/me", cookies={"spotauth": seal(n.cookie_key, claims_of(n, session))}).status_code == 200


def claims_of(n, session):
    return open_claims(n.cookie_key, session.cookies["spotauth"])


def test_login_cookie_is_not_a_session(server):
    session = requests.Session()
    server.get("/auth/login", session=session)
    r = server.get("/api/spotify/v1/me", cookies={"spotauth": login_cookie(session)[1]})
    assert r.status_code == 401


def test_duplicated_cookies_use_the_first_valid_name(server):
    session, _ = login(server)
    good = session.cookies["spotauth"]
    r = server.get("/api/spotify/v1/me",
                   headers={"Cookie": f"other=1; spotauth={good}; spotauth=garbage"})
    assert r.status_code == 200


def test_many_cookies_are_handled(server):
    session, _ = login(server)
    good = session.cookies["spotauth"]
    many = "; ".join(f"c{i}=v{i}" for i in range(300))
    r = echo(server, headers={"Cookie": f"{many}; spotauth={good}"})
    assert r.status_code == 200
    forwarded = r.json()["headers"]["cookie"]
    assert "c299=v299" in forwarded and "spotauth" not in forwarded
