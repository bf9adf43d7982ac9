"""Hostile input and the token-endpoint fault matrix: every case answers a
defined 4xx (or falls back), never a 5xx from the module, never a redirect
off-site; the harness checks no worker died."""
import base64
import secrets

import pytest
import requests

from conftest import consent, free_port, login, query_params, scratch_dir, self_signed_cert, start_login
from support.sessions import logged_in_with_expiring_token


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


HOSTILE_COOKIES = {
    "empty": "",
    "8k": "x" * 8000,
    "non_base64": "%%%%.$$$$.@@@@.!!!!.^^^^",
    "base64_not_jwe": b64url(secrets.token_bytes(300)),
    "five_base64_parts": ".".join(b64url(secrets.token_bytes(20)) for _ in range(5)),
    "alg_none": b64url(b'{"alg":"none"}') + "." * 4,
    "enc_a128": b64url(b'{"alg":"dir","enc":"A128GCM","kid":"x"}') + "..AAAA.AAAA.AAAA",
    "json_bomb_header": b64url(b"[" * 5000) + "..AAAA.AAAA.AAAA",
    "nul_bytes": "abc\x00def",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_COOKIES))
def test_hostile_session_cookie(server, kind):
    r = requests.get(server.base + "/api/spotify/v1/me",
                     headers={"Cookie": "spotauth=" + HOSTILE_COOKIES[kind]}, timeout=10)
    if kind == "nul_bytes":
        assert r.status_code == 400  # nginx itself refuses the header line
        return
    assert r.status_code == 401
    assert r.json()["error"] == "not_authenticated"
    page = requests.get(server.base + "/dashboard.html", allow_redirects=False,
                        headers={"Cookie": "spotauth=" + HOSTILE_COOKIES[kind]}, timeout=10)
    assert page.status_code == 302 and page.headers["Location"].startswith(server.base + "/auth/login")


def test_hundreds_of_duplicate_cookies(server):
    session, _ = login(server)
    good = session.cookies["spotauth"]
    junk = "; ".join(["spotauth=junk"] * 300)
    assert server.get("/api/spotify/v1/me", headers={"Cookie": f"{junk}; spotauth={good}"}).status_code == 401
    assert server.get("/api/spotify/v1/me", headers={"Cookie": f"spotauth={good}; {junk}"}).status_code == 200


@pytest.mark.parametrize("field", ["state", "code"])
def test_huge_callback_parameters(server, mock, field):
    session = requests.Session()
    params = start_login(server, session)
    query = {"state": params["state"], "code": "c", field: "A" * 6000}
    r = server.get("/auth/callback", session=session, params=query)
    assert r.status_code in (400, 502)  # bad state, or a code the provider refuses
    assert r.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("return_to", [
    "//evil.example", "/\\evil.example", "https://evil.example", "%2F%2Fevil.example",
    "%2f%5cevil.example", "/%0d%0aLocation:%20https://evil.example", "\t//evil.example",
    "%252F%252Fevil.example", "http:evil.example", "/" + "a" * 3000,
])
def test_open_redirect_variants_never_leave_the_site(server, mock, return_to):
    session = requests.Session()
    r = session.get(f"{server.base}/auth/login?return_to={return_to}", allow_redirects=False)
    r = session.get(consent(mock, query_params(r.headers["Location"])), allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == f"{server.base}/"


def test_client_authorization_never_reaches_upstream_unauthenticated(server, mock):
    r = server.get("/api/spotify/v1/echo", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401
    assert mock.stats()["api_calls"] == 0


# --- token-endpoint fault matrix (refresh of an expiring session) -----------

@pytest.mark.parametrize("fault,status", [
    ("drip", 503),                  # one byte a second: the total timeout ends it
    ("huge", 503),                  # 10 MB: the read is bounded (64 KB)
    ("missing_access_token", 503),
    ("html", 503),
    ("500", 503),
    ("hang", 503),
])
def test_fault_matrix_keeps_the_session(server, mock, fault, status):
    session = logged_in_with_expiring_token(server, mock)
    cookie = session.cookies["spotauth"]
    mock.configure(token_fault=fault, token_fault_count=2)
    r = server.get("/api/spotify/v1/me", session=session)
    assert r.status_code == status
    assert "Set-Cookie" not in r.headers
    mock.configure(token_fault=None)
    r = server.get("/api/spotify/v1/me", cookies={"spotauth": cookie})
    assert r.status_code == 200
    if fault == "huge":
        assert "response body larger than 65536 bytes" in server.error_log()


def test_upstream_api_down_is_nginx_502(make_nginx):
    n = make_nginx(server_extra="""
        location /api/down/ {
            spotauth on;
            proxy_pass http://127.0.0.1:1/;
        }""").start()
    session, _ = login(n)
    r = n.get("/api/down/v1/me", session=session)
    assert r.status_code == 502
    assert "nginx" in r.text  # nginx's own error page, not ours


def tls_front(mock, cert, key, port):
    """A TLS-terminating server in front of the mock's token endpoint."""
    return f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{ proxy_pass http://{mock.hostport}; }}
    }}"""


def test_token_endpoint_tls_is_verified(make_nginx, mock):
    cert, key = self_signed_cert(scratch_dir("spotauth-tls-"))
    port = free_port()
    token_url = f"https://127.0.0.1:{port}/api/token"

    # A generous timeout: the TLS handshake runs in the worker (slow under valgrind).
    untrusting = make_nginx(token_url=token_url, http_extra=tls_front(mock, cert, key, port),
                            timeout="15s").start()
    _, r = login(untrusting)
    assert r.status_code == 502
    assert "SSL certificate problem" in untrusting.error_log()
    assert mock.stats()["token_calls"]["total"] == 0
    untrusting.stop()

    trusting = make_nginx(token_url=token_url, http_extra=tls_front(mock, cert, key, port)
                          + f"\n    spotauth_ca_file {cert};", timeout="15s").start()
    _, r = login(trusting)
    assert r.status_code == 302
