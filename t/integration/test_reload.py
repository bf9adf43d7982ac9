"""Reload under load: a bounded wrk run on loopback with valid sessions
while nginx reloads five times: no failed request, sessions survive, and
refreshes in flight finish or fail cleanly."""
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from test_refresh import logged_in_with_expiring_token


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (build.sh installs it)")
def test_five_reloads_under_load_fail_nothing(make_nginx, mock):
    n = make_nginx(workers=2).start()
    session = logged_in_with_expiring_token(n, mock)  # its first requests refresh
    cookie = session.cookies["spotauth"]
    mock.configure(token_delay=0.3)  # keep refreshes in flight across reloads

    reloads = []

    def reload_five_times():
        time.sleep(0.5)
        for _ in range(5):
            n.reload()
            reloads.append(time.monotonic())
            time.sleep(0.3)

    reloader = threading.Thread(target=reload_five_times)
    reloader.start()
    # One connection per request: a reload closes idle keep-alive connections,
    # and a client that sends on one at that instant sees a reset (nginx's
    # behaviour, which browsers retry); every request itself must succeed.
    out = subprocess.run(["wrk", "-t", "2", "-c", "16", "-d", "6s", "--timeout", "5s",
                          "-H", "Connection: close", "-H", f"Cookie: spotauth={cookie}",
                          f"{n.base}/api/spotify/v1/me"],
                         capture_output=True, text=True, timeout=60)
    reloader.join(timeout=30)
    assert out.returncode == 0, out.stderr
    assert len(reloads) == 5
    report = out.stdout
    total = int(re.search(r"(\d+) requests in", report).group(1))
    if not os.environ.get("SPOTAUTH_NGINX_WRAPPER"):  # valgrind is slow
        assert total > 100, report
    assert "Non-2xx or 3xx responses" not in report, report
    assert "Socket errors" not in report, report
    # The session still works after all that, with the original cookie.
    assert n.get("/api/spotify/v1/me", cookies={"spotauth": cookie}).status_code == 200
    assert mock.stats()["token_calls"]["refresh_token"] >= 1
