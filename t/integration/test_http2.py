"""HTTP/2 over TLS (a throwaway certificate on 127.0.0.1), on every nginx
of the matrix: the login flow, a protected API location with an inline
refresh, and /auth/token. curl (Debian's, with nghttp2) is the client and
reports the protocol each answer came over."""
import json
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from conftest import consent, query_params
from session_cookie import expiring

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl missing (build.sh installs it)")

SESSION_COOKIE = "__Host-spotauth"


class Http2Client:
    """curl --http2 with a cookie jar, one process per request."""

    def __init__(self, nginx, directory):
        self.nginx = nginx
        directory.mkdir(exist_ok=True)
        self.jar = directory / "cookies.txt"

    def get(self, path, headers=()):
        url = path if path.startswith("https://") else self.nginx.tls_base + path
        args = ["curl", "--http2", "--silent", "--show-error", "--max-time", "10",
                "--cacert", str(self.nginx.cert), "--cookie", str(self.jar), "--cookie-jar", str(self.jar),
                "--dump-header", "-", "--write-out", "\n%{http_version}"]
        for header in headers:
            args += ["--header", header]
        # (text mode turns curl's CRLF into LF)
        out = subprocess.run([*args, url], capture_output=True, text=True, timeout=30, check=True).stdout
        head, _, rest = out.partition("\n\n")
        body, _, version = rest.rpartition("\n")
        status_line, *lines = head.split("\n")
        fields = [line.split(": ", 1) for line in lines]
        return Answer(version, int(status_line.split()[1]), fields, body)


class Answer:
    def __init__(self, version, status, fields, body):
        self.version, self.status, self.fields, self.body = version, status, fields, body

    def header(self, name):
        return next((v for k, v in self.fields if k.lower() == name), None)

    def headers(self, name):
        return [v for k, v in self.fields if k.lower() == name]


@pytest.fixture
def h2(make_nginx, tmp_path):
    return Http2Client(make_nginx(tls=True, secure=True).start(), tmp_path)


def sign_in(h2, mock, return_to="/dashboard.html"):
    r = h2.get(f"/auth/login?return_to={return_to}")
    assert (r.version, r.status) == ("2", 302)
    callback = consent(mock, query_params(r.header("location")))
    assert urlsplit(callback).port == h2.nginx.tls_port
    return h2.get(callback)


def session_cookie_of(answer):
    (cookie,) = [c for c in answer.headers("set-cookie") if c.startswith(SESSION_COOKIE + "=")]
    return cookie.split(";")[0].split("=", 1)[1]


def test_login_flow_over_http2(h2, mock):
    r = sign_in(h2, mock)
    assert (r.version, r.status) == ("2", 302)
    assert r.header("location") == f"{h2.nginx.tls_base}/dashboard.html"
    (cookie,) = [c for c in r.headers("set-cookie") if c.startswith(SESSION_COOKIE + "=")]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert h2.get("/dashboard.html").status == 200


def test_protected_api_over_http2(h2, mock):
    sign_in(h2, mock)
    # Browsers send each cookie as its own header field over HTTP/2.
    r = h2.get("/api/spotify/v1/echo", headers=["Cookie: theme=dark"])
    assert (r.version, r.status) == ("2", 200)
    seen = json.loads(r.body)["headers"]
    token = mock.get("/_mock/tokens", user="alice")["access_tokens"][-1]
    assert seen["authorization"] == "Bearer " + token
    assert "theme=dark" in seen["cookie"] and "spotauth" not in seen["cookie"]


def test_inline_refresh_over_http2(h2, mock, tmp_path):
    cookie = session_cookie_of(sign_in(h2, mock))
    # The same session, its hour-long access token 30 s from expiry.
    fresh = Http2Client(h2.nginx, tmp_path / "expiring")
    r = fresh.get("/api/spotify/v1/me",
                  headers=[f"Cookie: {SESSION_COOKIE}={expiring(h2.nginx.cookie_key, cookie)}"])
    assert (r.version, r.status) == ("2", 200)
    assert any(c.startswith(SESSION_COOKIE + "=") for c in r.headers("set-cookie"))
    assert mock.stats()["token_calls"]["refresh_token"] == 1


def test_token_endpoint_over_http2(h2, mock):
    sign_in(h2, mock)
    r = h2.get("/auth/token", headers=["Sec-Fetch-Site: same-origin"])
    assert (r.version, r.status) == ("2", 200)
    body = json.loads(r.body)
    assert body["access_token"] == mock.get("/_mock/tokens", user="alice")["access_tokens"][-1]
    assert set(body) == {"access_token", "expires_in"}
