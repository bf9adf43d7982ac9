"""The production configuration as shipped, against a fake api.spotify.com
over TLS with its own CA (t/tls_api.py, certificates from t/fake_pki.py).

The template is conf/spotauth.conf as `./build.sh example-conf` writes it
for the nginx under test, with conf/snippets/spotauth-proxy.conf where it
includes it from; the test substitutes only host names, ports and file
paths. The TLS server name and Host stay api.spotify.com. On nginx 1.27.3
and later the pool follows DNS (`resolve`): a fake DNS server
(t/fake_dns.py) says api.spotify.com is 127.0.0.1 and the template's
server line keeps its name, only its port changed.

- The CA trusted: API calls through the module succeed over TLS 1.2 and
  over TLS 1.3 alone, on one kept-alive HTTP/1.1 connection, with the
  Bearer token and without the site's cookies.
- A certificate from a rogue CA, or for another name: 502, and the fake
  gets no request at all (the token never leaves nginx).
"""
import os
import re
import shutil
import subprocess
import time

import pytest
import requests
import urllib3

from conftest import (MODULE, NGINX, NGINX_PRELOAD, NGINX_VERSION, NGINX_WRAPPER, ROOT, STARTUP_TIMEOUT,
                      free_port, new_key_text, scratch_dir, self_signed_cert, wait_for_port)
from fake_pki import make_pki
from session_cookie import client_key_text, seal, session_claims
from tls_api_control import FakeDNS, FakeSpotifyAPI

SNIPPET = ROOT / "conf" / "snippets" / "spotauth-proxy.conf"
CLIENT_ID = "0123456789abcdef0123456789abcdef"
SESSION_COOKIE = "__Host-spotauth"  # spotauth_cookie_secure on, the default
CALLS = 6
API_PATH = "/api/spotify/v1/me"
RESOLVES = NGINX_VERSION >= (1, 27, 3)  # ./build.sh example-conf writes zone + resolve + resolver


def substitute(text, replacements):
    """`text` with each (old, new) replaced; each old must be there, so a
    changed template fails here rather than being tested half-substituted."""
    for old, new in replacements:
        assert old in text, f"{old!r} is no longer in the shipped configuration"
        text = text.replace(old, new)
    return text


def shipped_template():
    version = ".".join(map(str, NGINX_VERSION))
    return subprocess.run([str(ROOT / "build.sh"), "example-conf", version], capture_output=True, text=True,
                          timeout=60, check=True).stdout


class ProductionNginx:
    """nginx with the shipped template and snippet, pointed at the fake."""

    def __init__(self, pki, api_port, dns=None):
        self.prefix = scratch_dir("spotauth-prod-")
        for sub in ("logs", "snippets", "srv"):
            (self.prefix / sub).mkdir()
        self.port = free_port()
        self.key_text = new_key_text()
        for name, text in (("spotauth.key", self.key_text), ("client-secret", "s3cret\n")):
            (self.prefix / name).write_text(text)
            (self.prefix / name).chmod(0o600)
        cert, cert_key = self_signed_cert(self.prefix)
        replacements = [
            ("CHANGE-ME-client-id", CLIENT_ID),
            ("/etc/nginx/spotify-client-secret", str(self.prefix / "client-secret")),
            ("/etc/nginx/spotauth.key", str(self.prefix / "spotauth.key")),
            ("/etc/letsencrypt/live/www.example.org/fullchain.pem", str(cert)),
            ("/etc/letsencrypt/live/www.example.org/privkey.pem", str(cert_key)),
            ("listen 443 ssl", f"listen 127.0.0.1:{self.port} ssl"),
            ("/srv/www", str(self.prefix / "srv")),
        ]
        if dns:
            # The fake DNS server says api.spotify.com is 127.0.0.1.
            replacements += [("server api.spotify.com:443 resolve", f"server api.spotify.com:{api_port} resolve"),
                             ("resolver CHANGE-ME-name-server;", f"resolver 127.0.0.1:{dns.port};")]
        else:
            # Looked up at start by the system's resolver: an address instead.
            replacements.append(("server api.spotify.com:443", f"server 127.0.0.1:{api_port}"))
        template = substitute(shipped_template(), replacements)
        assert "CHANGE-ME" not in template
        (self.prefix / "snippets" / "spotauth-proxy.conf").write_text(substitute(
            SNIPPET.read_text(), [("/etc/ssl/certs/ca-certificates.crt", str(pki / "ca.pem"))]))
        (self.prefix / "nginx.conf").write_text(
            f"load_module {MODULE};\npid logs/nginx.pid;\nerror_log logs/error.log info;\n"
            f"events {{}}\nhttp {{\n{template}\n}}\n")
        self.command = [NGINX, "-p", f"{self.prefix}/", "-c", "nginx.conf"]
        check = subprocess.run([*self.command, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        assert "[warn]" not in check.stderr, check.stderr
        env = dict(os.environ, LD_PRELOAD=NGINX_PRELOAD) if NGINX_PRELOAD else None
        self.proc = subprocess.Popen([*NGINX_WRAPPER, *self.command, "-g", "daemon off;"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc, STARTUP_TIMEOUT)

    def first_call(self, cookie, fake, path=API_PATH):
        """The first API call that reaches the fake (with `resolve`, nginx
        answers 502 until its first DNS answer arrives)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            r = self.api_call(cookie, path)
            if fake.events() or time.monotonic() > deadline:
                return r
            time.sleep(0.05)

    def api_call(self, cookie, path=API_PATH):
        return requests.get(f"https://127.0.0.1:{self.port}{path}", verify=False, timeout=15,
                            allow_redirects=False,
                            headers={"Host": "www.example.org",
                                     "Cookie": f"{SESSION_COOKIE}={cookie}; site_analytics=abc"})

    def error_log(self):
        return (self.prefix / "logs" / "error.log").read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        log = self.error_log()
        shutil.rmtree(self.prefix, ignore_errors=True)
        problems = [line for line in log.splitlines()
                    if "[alert]" in line or "[emerg]" in line or "exited on signal" in line]
        assert not problems, "nginx error log:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def pki():
    directory = scratch_dir("spotauth-pki-")
    yield make_pki(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def deployment(pki):
    """(fake, nginx) for a certificate name of fake_pki and a TLS version."""
    started = []

    def start(cert_name, tls="both"):
        fake = FakeSpotifyAPI(pki, pki / f"{cert_name}.pem", pki / f"{cert_name}.key", tls=tls)
        started.append(fake)
        dns = None
        if RESOLVES:
            dns = FakeDNS(pki)
            started.append(dns)
        nginx = ProductionNginx(pki, fake.port, dns)
        started.append(nginx)
        nginx.dns = dns
        return fake, nginx

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the front's self-signed cert
    yield start
    for service in reversed(started):
        service.stop()


def new_session(nginx):
    claims = session_claims("alice", int(time.time()))
    return seal(client_key_text(nginx.key_text, CLIENT_ID), claims), claims["access_token"]


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_trusted_api_calls_share_one_kept_alive_connection(deployment, tls):
    fake, nginx = deployment("good", tls)
    cookie, token = new_session(nginx)
    path = API_PATH + "/top/tracks?limit=5&time_range=short_term"
    for call in range(CALLS):
        r = nginx.first_call(cookie, fake, path) if call == 0 else nginx.api_call(cookie, path)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == "alice"
    got = fake.requests()
    assert len(got) == CALLS
    # One connection (one worker, calls one after another): request n of it
    # is what nginx's $connection_requests would say.
    assert {g["conn"] for g in got} == {got[0]["conn"]}
    assert [g["n"] for g in got] == list(range(1, CALLS + 1))
    for g in got:
        assert g["version"] == "HTTP/1.1" and g["connection"] is None  # not "close"
        assert g["path"] == "/v1/me/top/tracks?limit=5&time_range=short_term"  # the prefix gone, the query kept
        assert g["host"] == "api.spotify.com"
        assert g["authorization"] == f"Bearer {token}"
        assert g["cookie"] is None  # the site's cookies stay with the site
    (handshake,) = fake.events("handshake")
    assert handshake["sni"] == "api.spotify.com"
    assert handshake["tls"] == f"TLSv{tls}"
    if nginx.dns:
        assert {"name": "api.spotify.com", "type": 1} in nginx.dns.questions()


@pytest.mark.parametrize("cert_name, reason", [
    ("rogue", "api.spotify.com from a CA nobody trusts"),
    ("other", "a trusted CA's certificate for another name"),
])
def test_untrusted_upstream_gets_502_and_no_token(deployment, cert_name, reason):
    fake, nginx = deployment(cert_name)
    cookie, token = new_session(nginx)
    for call in range(3):
        r = nginx.first_call(cookie, fake) if call == 0 else nginx.api_call(cookie)
        assert r.status_code == 502, f"{reason}: {r.status_code} {r.text}"
        assert token not in r.text
    assert fake.requests() == [], reason
    # nginx did reach the fake, and hung up once it saw the certificate.
    assert fake.events("handshake") + fake.events("handshake_failed"), reason
    assert re.search(r"upstream SSL certificate (verify error|does not match)", nginx.error_log()), \
        nginx.error_log()


def proxy_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip().startswith("proxy_")]


def test_every_location_of_the_pool_gets_the_whole_snippet():
    """The traps, in the shipped files: no location proxies to the pool
    except through the snippet (idle connections are shared by address, so
    one unverified location would expose the others), and no location sets
    a proxy header of its own (it would drop the snippet's Connection "")."""
    manifest = (ROOT / "contrib" / "kubernetes" / "spotauth.yaml").read_text()
    for name, text in (("conf/spotauth.conf", shipped_template()), ("contrib/kubernetes/spotauth.yaml", manifest)):
        assert proxy_lines(text) == ["proxy_intercept_errors on;"], name
        assert text.count("include snippets/spotauth-proxy.conf;") == 2, name
    snippet = proxy_lines(SNIPPET.read_text())
    assert snippet[0] == "proxy_pass https://api.spotify.com;"
    for line in ("proxy_http_version 1.1;", 'proxy_set_header Connection "";', "proxy_ssl_verify on;",
                 "proxy_ssl_server_name on;", "proxy_ssl_protocols TLSv1.2 TLSv1.3;", "proxy_ssl_verify_depth 2;"):
        assert line in snippet
