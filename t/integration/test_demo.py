"""`./build.sh demo`, the README's first command, really serves the demo:
the landing page, the login through the mock and the dashboard."""
import os
import signal
import subprocess
from types import SimpleNamespace

import requests

from conftest import ROOT, consent, debian_nginx_only, free_port, query_params, scratch_dir, wait_for_port


@debian_nginx_only  # the demo runs Debian's nginx
def test_build_sh_demo_serves_the_site():
    listen, mock_port = free_port(), free_port()
    run_dir = scratch_dir("spotauth-demo-t-")
    env = dict(os.environ, SPOTAUTH_DEMO_DIR=str(run_dir),
               SPOTAUTH_DEMO_LISTEN=f"127.0.0.1:{listen}", SPOTAUTH_DEMO_MOCK=f"127.0.0.1:{mock_port}")
    demo = subprocess.Popen([str(ROOT / "build.sh"), "demo"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(listen, demo, timeout=300)  # may build first
        base = f"http://127.0.0.1:{listen}"
        landing = requests.get(base + "/", timeout=10)
        assert landing.status_code == 200 and "Connect with Spotify" in landing.text
        session = requests.Session()
        r = session.get(base + "/dashboard.html", timeout=10)  # follows to the mock's consent page
        assert "Agree" in r.text
        mock = SimpleNamespace(url=f"http://127.0.0.1:{mock_port}")
        r = session.get(consent(mock, query_params(r.url)), timeout=10)
        assert r.url == base + "/dashboard.html"
        assert session.get(base + "/auth/session", timeout=10).json()["user"]["id"] == "alice"
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=30)
    assert not (run_dir / "logs" / "nginx.pid").exists(), "the demo left nginx running"
