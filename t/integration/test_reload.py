"""Reloads: a bounded wrk run on loopback with valid sessions while nginx
reloads five times (no failed request, sessions survive, refreshes in
flight finish or fail cleanly), and reloads with no other traffic while
requests wait on a refresh or a code exchange (every one is answered),
and logouts that survive a full zone and a reload."""
import os
import re
import shutil
import subprocess
import threading
import time

import pytest
import requests

from conftest import consent, forged_session, login, logout, start_login
from support.sessions import logged_in_with_expiring_token


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


# --- Reloads with no other traffic ---------------------------------------------
# A worker leaving on reload keeps going until the token calls it holds are
# answered and every request parked on them has its answer, as it would for
# a proxied request. Nothing else keeps the old worker alive here.

def wait_for_token_calls(mock, grant, count, timeout=5):
    deadline = time.monotonic() + timeout
    while mock.stats()["token_calls"][grant] < count:
        assert time.monotonic() < deadline, f"no {grant} call reached the mock"
        time.sleep(0.02)


def parked_during_reload(n, mock, grant, send, clients):
    """Starts `clients` calls of send(), waits until their token call is at
    the mock (which answers after 1.5 s), reloads nginx, returns answers."""
    results = [None] * clients

    def run(i):
        results[i] = send()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    wait_for_token_calls(mock, grant, 1)
    n.reload()
    for t in threads:
        t.join(timeout=20)
    return results


def new_session_cookie(response):
    cookies = [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("spotauth=")]
    return cookies[0].split(";")[0].split("=", 1)[1] if cookies else None


@pytest.mark.parametrize("path,headers", [
    ("/api/spotify/v1/me", {}),
    ("/auth/token", {"Sec-Fetch-Site": "same-origin"}),
])
def test_reload_answers_requests_parked_on_a_refresh(make_nginx, mock, path, headers):
    n = make_nginx().start()
    mock.configure(rotate_refresh=True)
    cookie = logged_in_with_expiring_token(n, mock).cookies["spotauth"]
    mock.configure(token_delay=1.5)

    def send():
        return requests.get(n.base + path, cookies={"spotauth": cookie}, headers=headers, timeout=15)

    answers = parked_during_reload(n, mock, "refresh_token", send, clients=30)
    assert [r.status_code for r in answers] == [200] * 30
    rotated = [new_session_cookie(r) for r in answers]
    assert None not in rotated, "every answer carries the refreshed session"
    assert mock.stats()["token_calls"]["refresh_token"] == 1
    # The rotated refresh token was kept: the new cookie goes on working
    # after its access token expires again.
    mock.configure(token_delay=0)
    mock.post("/_mock/expire", {"user": "alice"})
    r = n.get("/api/spotify/v1/me", cookies={"spotauth": rotated[0]})
    assert r.status_code == 200
    assert "open socket" not in n.error_log()


def test_reload_answers_a_callback_mid_exchange(make_nginx, mock):
    n = make_nginx().start()
    session = requests.Session()
    callback = consent(mock, start_login(n, session))
    mock.configure(token_delay=1.5)
    (r,) = parked_during_reload(n, mock, "authorization_code",
                                lambda: session.get(callback, allow_redirects=False, timeout=15), clients=1)
    assert r.status_code == 302
    assert session.cookies.get("spotauth")
    mock.configure(token_delay=0)
    assert n.get("/api/spotify/v1/me", session=session).status_code == 200
    assert "open socket" not in n.error_log()


# --- logouts are never forgotten -----------------------------------------------
# A 64k zone holds about 300 revocations (fewer once spent login states
# share it): 400 more logouts after X's must not make the zone forget X's,
# and workers started by a reload must know it too.

def metric(n, name):
    match = re.search(rf"^{re.escape(name)} (\S+)$", n.get("/metrics").text, re.M)
    assert match, f"{name} missing"
    return float(match.group(1))


def test_400_other_logouts_and_a_reload_never_reopen_a_logout(make_nginx, mock):
    n = make_nginx(workers=2, http_extra="    spotauth_zone spotauth:64k;",
                   server_extra="        location = /metrics { spotauth_status; }").start()
    session, _ = login(n)
    cookie = session.cookies["spotauth"]
    assert n.get("/api/spotify/v1/me", cookies={"spotauth": cookie}).status_code == 200
    logout(n, cookie)
    time.sleep(1.1)  # the others begin later than X's session
    for i in range(400):
        logout(n, forged_session(n, f"other{i}"))

    def answers():
        return [requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookie},
                             headers={"Connection": "close"}, timeout=10).status_code for _ in range(10)]

    assert answers() == [401] * 10
    n.reload()
    assert answers() == [401] * 10, "a reloaded worker served a logged-out cookie"
    # The zone could not keep every logout: it raised the floor instead, once
    # in the log, and counted what it let go.
    assert metric(n, "spotauth_revocations_evicted_total") > 0
    assert metric(n, "spotauth_revocation_floor_seconds") > 0
    assert n.error_log().count("the zone is full of logouts") == 1
    # A session that begins after the floor is served.
    deadline = time.monotonic() + 5
    while time.time() < metric(n, "spotauth_revocation_floor_seconds"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    fresh, r = login(n, user="bob")
    assert r.status_code == 302
    assert n.get("/api/spotify/v1/me", session=fresh).status_code == 200
