"""The login flow, a protected API location and /auth/token over HTTP/3.

Debian's chromium (driven by playwright-core, t/browser/h3.mjs) is forced
onto QUIC for nginx's TLS origin; Debian 12's curl has no HTTP/3 and there
is no Python QUIC client packaged. The proof that each answer really came
over HTTP/3 is taken on both sides: nginx adds `X-Protocol:
$server_protocol` to every response, which h3.mjs checks along with the
browser's own `nextHopProtocol`, and nginx's access log, read here, must show
`HTTP/3.0` and `$http3 = h3` for /auth/login, /auth/callback, the page the
login returns to, /api/spotify/v1/me and /auth/token, and nothing on the TLS
port over any other protocol.

Runs on any nginx of the version matrix built --with-http_v3_module (1.25+);
skipped on others (Debian 12's nginx 1.22 among them)."""
import base64
import hashlib
import subprocess
import time

import pytest

from conftest import NGINX, NGINX_VERSION, nginx_configure_args
from support.browser import BROWSER_DIR, browser_missing

NODE_TIMEOUT = 60  # h3.mjs gives up by itself after 30 s
LOG_TIMEOUT = 5    # nginx writes a request's log line once it has sent the answer

# One line per request on either port: the port tells the TLS (TCP and QUIC)
# server from the plain one; $http3 is "h3" for requests that came over QUIC.
PROTO_LOG = ("    log_format spotauth_proto '$server_port $request_method $uri $status $server_protocol h3=$http3';\n"
             "    access_log logs/proto.log spotauth_proto;")
X_PROTOCOL = "        add_header X-Protocol $server_protocol always;"

# What the flow asks nginx for, and the status each must answer.
EXPECTED = {"/auth/login": "302", "/auth/callback": "302", "/dashboard.html": "200",
            "/api/spotify/v1/me": "200", "/auth/token": "200"}


def http3_missing():
    if NGINX_VERSION < (1, 25, 0):
        return f"nginx {'.'.join(map(str, NGINX_VERSION))} ({NGINX}) predates HTTP/3 (QUIC listeners came in 1.25.0)"
    if "--with-http_v3_module" not in nginx_configure_args():
        return f"nginx {'.'.join(map(str, NGINX_VERSION))} ({NGINX}) was built without --with-http_v3_module"
    return browser_missing()


def spki_sha256(cert):
    """Base64 SHA-256 of the certificate's SubjectPublicKeyInfo: what
    chromium's --ignore-certificate-errors-spki-list takes."""
    pem = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"],
                         check=True, capture_output=True, timeout=30).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"],
                         input=pem, check=True, capture_output=True, timeout=30).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def logged_requests(n):
    path = n.prefix / "logs" / "proto.log"
    text = path.read_text() if path.exists() else ""
    return [dict(zip(("port", "method", "uri", "status", "protocol", "http3"), line.split()))
            for line in text.splitlines()]


def wait_for_logged(n, paths):
    """The access log once it holds a line for each of `paths`. The browser
    may read an answer a moment before nginx's log phase writes its line, so
    this waits for the lines, boundedly."""
    deadline = time.monotonic() + LOG_TIMEOUT
    while True:
        lines = logged_requests(n)
        missing = set(paths) - {r["uri"] for r in lines}
        if not missing:
            return lines
        assert time.monotonic() < deadline, f"nginx logged no request for {sorted(missing)}:\n{lines}"
        time.sleep(0.05)


def test_login_api_and_token_over_http3(make_nginx, mock):
    reason = http3_missing()
    if reason:
        pytest.skip(reason)
    n = make_nginx(tls=True, http3=True, http_extra=PROTO_LOG, server_extra=X_PROTOCOL).start()

    started = time.monotonic()
    run = subprocess.run(["node", str(BROWSER_DIR / "h3.mjs"), n.tls_base, mock.url, spki_sha256(n.cert)],
                         cwd=BROWSER_DIR, capture_output=True, text=True, timeout=NODE_TIMEOUT)
    output = run.stdout + run.stderr
    print(output)  # one line per check; shown with -s or on failure
    print(f"h3.mjs took {time.monotonic() - started:.1f} s")
    assert run.returncode == 0, f"HTTP/3 browser test failed:\n{output}\nnginx error log:\n{n.error_log()}"

    lines = wait_for_logged(n, EXPECTED)
    tls = [r for r in lines if r["port"] == str(n.tls_port)]
    for path, status in EXPECTED.items():
        hits = [r for r in tls if r["uri"] == path]
        assert hits, f"no request for {path} on the TLS port {n.tls_port}: {lines}"
        for r in hits:
            assert (r["protocol"], r["http3"], r["status"]) == ("HTTP/3.0", "h3=h3", status), \
                f"{path} was not answered {status} over HTTP/3: {r}"
    # Not a single request reached the TLS server over TCP (HTTP/1.1 or HTTP/2).
    assert all(r["protocol"] == "HTTP/3.0" and r["http3"] == "h3=h3" for r in tls), \
        f"requests not over HTTP/3: {[r for r in tls if r['protocol'] != 'HTTP/3.0']}"
    assert len(tls) == len(lines), f"requests on the plain port: {[r for r in lines if r not in tls]}"
