"""`./build.sh demo`, the README's first command, really serves the demo:
the landing page, the login through the mock and the dashboard; and its
allow list (conf/demo-allowed-users) lets alice in and refuses bob."""
import html
import os
import re
import signal
import subprocess
from types import SimpleNamespace

import pytest
import requests

from conftest import ROOT, consent, debian_nginx_only, free_port, query_params, scratch_dir, wait_for_port

pytestmark = debian_nginx_only  # the demo runs Debian's nginx


@pytest.fixture(scope="module")
def demo():
    """One `./build.sh demo` for the module's tests, stopped with Ctrl-C's
    SIGINT; checks that it leaves no nginx running."""
    listen, mock_port = free_port(), free_port()
    run_dir = scratch_dir("spotauth-demo-t-")
    env = dict(os.environ, SPOTAUTH_DEMO_DIR=str(run_dir),
               SPOTAUTH_DEMO_LISTEN=f"127.0.0.1:{listen}", SPOTAUTH_DEMO_MOCK=f"127.0.0.1:{mock_port}")
    process = subprocess.Popen([str(ROOT / "build.sh"), "demo"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(listen, process, timeout=300)  # may build first
        yield SimpleNamespace(base=f"http://127.0.0.1:{listen}", run_dir=run_dir,
                              mock=SimpleNamespace(url=f"http://127.0.0.1:{mock_port}"))
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    assert not (run_dir / "logs" / "nginx.pid").exists(), "the demo left nginx running"


def consent_page(demo, session):
    """Opens the protected dashboard without a session: the login's 302s
    end on the mock's consent page; returns its URL's query parameters."""
    r = session.get(demo.base + "/dashboard.html", timeout=10)
    assert "Agree" in r.text
    return r, query_params(r.url)


def test_build_sh_demo_serves_the_site(demo):
    landing = requests.get(demo.base + "/", timeout=10)
    assert landing.status_code == 200 and "Connect with Spotify" in landing.text
    session = requests.Session()
    _, params = consent_page(demo, session)
    r = session.get(consent(demo.mock, params), timeout=10)  # alice, the default
    assert r.url == demo.base + "/dashboard.html"
    assert session.get(demo.base + "/auth/session", timeout=10).json()["user"]["id"] == "alice"


def test_demo_allow_list_refuses_the_second_user(demo):
    assert (demo.run_dir / "conf" / "demo-allowed-users").read_text() == \
        (ROOT / "conf" / "demo-allowed-users").read_text()
    session = requests.Session()
    page, params = consent_page(demo, session)
    assert "lets in alice only" in page.text and "bob" in page.text  # the consent page names both
    r = session.get(consent(demo.mock, params, user="bob"), timeout=10,
                    headers={"Accept": "text/html,application/xhtml+xml"}, allow_redirects=False)
    assert r.status_code == 403, r.text
    assert "No access" in r.text
    r_refused = r
    assert not [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("spotauth=")], \
        "a refused user got a session cookie"
    assert "spotauth" not in session.cookies
    assert session.get(demo.base + "/auth/session", timeout=10).json() == {"authenticated": False}
    # The dashboard sends bob through the login again, not to the page.
    r = session.get(demo.base + "/dashboard.html", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    # bob's "No access" page offers another account: the mock is asked to
    # show its dialog, and alice gets in.
    link = re.search(r'href="([^"]*)">Sign in with another account<', r_refused.text)
    assert link, r_refused.text
    r = session.get(demo.base + html.unescape(link.group(1)), allow_redirects=False, timeout=10)
    assert r.status_code == 302 and query_params(r.headers["Location"])["show_dialog"] == "true"
    r = session.get(consent(demo.mock, query_params(r.headers["Location"])), timeout=10)
    assert r.url == demo.base + "/dashboard.html"


def test_demo_logout_notice_offers_another_account(demo):
    landing = requests.get(demo.base + "/", timeout=10).text
    assert 'id="switch-account" href="/auth/login?switch=1&amp;return_to=/dashboard.html"' in landing
