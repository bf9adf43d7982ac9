"""Production hardening: what a replaying attacker, a full zone, a killed
worker and cookie tossing can do, and that none of it costs a session or
reaches the provider more than once per real login."""
import base64
import hashlib
import os
import re
import signal
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from conftest import consent, login, login_cookie, query_params, start_login
from session_cookie import open_claims, seal, session_claims
from support.sessions import logged_in_with_expiring_token


def code_exchanges(mock):
    return mock.stats()["token_calls"]["authorization_code"]


def metric(n, name):
    text = n.get("/metrics").text
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert match, f"{name} missing from:\n{text}"
    return float(match.group(1))


METRICS = "        location = /metrics { spotauth_status; }"


# --- single-use login state and the cap on code exchanges -------------------

def test_a_kept_login_cookie_buys_one_code_exchange(server, mock):
    session = requests.Session()
    params = start_login(server, session)
    name, value = login_cookie(session)
    callback = consent(mock, params)
    forged = [callback.replace("code=", f"code=made-up-{i}-") for i in range(20)]
    answers = [requests.get(url, cookies={name: value}, allow_redirects=False, timeout=10)
               for url in forged]
    # The first made-up code costs the one exchange the login allows
    # (the provider refuses it); every later one is refused here.
    assert answers[0].status_code == 502
    assert [r.status_code for r in answers[1:]] == [400] * 19
    assert {r.json()["error"] for r in answers[1:]} == {"invalid_state"}
    assert code_exchanges(mock) == 1
    # The real callback of that login is refused too: its state is used up.
    assert session.get(callback, allow_redirects=False).status_code == 400
    assert code_exchanges(mock) == 1


def test_login_state_is_shared_by_workers(make_nginx, mock):
    n = make_nginx(workers=2, server_extra=METRICS).start()
    session = requests.Session()
    params = start_login(n, session)
    name, value = login_cookie(session)
    callback = consent(mock, params)
    assert session.get(callback, allow_redirects=False).status_code == 302
    # Replays on fresh connections land on either worker: all refused.
    replays = [requests.get(callback, cookies={name: value}, allow_redirects=False,
                            headers={"Connection": "close"}, timeout=10) for _ in range(10)]
    assert [r.status_code for r in replays] == [400] * 10
    assert code_exchanges(mock) == 1
    assert metric(n, "spotauth_login_replays_total") == 10


def test_code_exchanges_per_address_are_capped(make_nginx, mock):
    n = make_nginx(exchange_limit="3 100", server_extra=METRICS).start()
    answers = [login(n)[1] for _ in range(5)]
    assert [r.status_code for r in answers] == [302, 302, 302, 429, 429]
    limited = answers[3]
    assert limited.json()["error"] == "too_many_requests"
    assert 1 <= int(limited.headers["Retry-After"]) <= 20  # one exchange every 20 s
    assert code_exchanges(mock) == 3
    assert metric(n, "spotauth_code_exchanges_limited_total") == 2


def test_code_exchanges_per_worker_are_capped(make_nginx, mock):
    n = make_nginx(exchange_limit="100 2").start()
    assert [login(n)[1].status_code for _ in range(3)] == [302, 302, 429]
    assert code_exchanges(mock) == 2


def test_exchange_limit_directive_is_checked(make_nginx):
    bad = make_nginx(exchange_limit="0 10").check()
    assert bad.returncode != 0 and "two positive numbers" in bad.stderr


# --- a full zone never costs a session ---------------------------------------

def forged_expiring_sessions(n, count):
    """Distinct sessions whose access tokens expired and whose (made-up)
    refresh tokens the provider refuses: each request with one makes a
    refresh call and leaves a remembered result in the zone."""
    now = int(time.time())
    return [seal(n.cookie_key, session_claims(f"filler{i}", now, access_expires_in=-10)) for i in range(count)]


def test_full_zone_keeps_a_rotating_refresh_in_flight(make_nginx, mock):
    n = make_nginx(workers=2, timeout="15s", http_extra="    spotauth_zone spotauth:64k;").start()
    mock.configure(rotate_refresh=True)
    cookie = logged_in_with_expiring_token(n, mock).cookies["spotauth"]
    fillers = forged_expiring_sessions(n, 300)  # a 64k zone remembers about 40
    # Only the next call is slow: long enough to outlast the flood below.
    mock.configure(token_delay=8, token_fault_count=1)

    def get(c):
        return requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": c},
                            headers={"Connection": "close"}, timeout=20).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        first = pool.submit(get, cookie)  # the slow, rotating refresh
        deadline = time.monotonic() + 5
        while mock.stats()["token_calls"]["refresh_token"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        # Other sessions refresh meanwhile and fill the zone.
        assert set(pool.map(get, fillers)) == {401}
        assert first.running(), "the flood outlasted the slow refresh: the test proves nothing"
        # Requests on the rotating session, spread over both workers.
        statuses = list(pool.map(get, [cookie] * 60))
        assert first.result() == 200
    assert statuses == [200] * 60
    assert mock.stats()["refresh_tokens_revoked"] == 1  # one rotation: one call on that session


# --- a record moved in the zone's memory does not open ----------------------
# Whoever can write the shared memory (any process of nginx's user) copies
# alice's remembered refresh result onto the key of bob's refresh token.
# The zone's refresh entry (nginx/ngx_spotauth_zone_layout.hpp) is one
# 1 KB slab chunk: an rbtree node whose ngx_str_t (len at +40, data at
# +48) points at the key in the same chunk, the LRU links up to +72, then
# the record's fields, the key, and what follows the key.

ZONE_BYTES = 200 * 1024  # a size no other shared mapping of nginx has
ENTRY_BYTES = 1024


def zone_memory(n):
    """(/proc/<master>/mem opened read-write, address, bytes) of the zone."""
    master = int((n.prefix / "logs" / "nginx.pid").read_text())
    for line in Path(f"/proc/{master}/maps").read_text().splitlines():
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if end - start == ZONE_BYTES and fields[1].startswith("rw-s"):
            mem = open(f"/proc/{master}/mem", "r+b", buffering=0)
            mem.seek(start)
            return mem, start, mem.read(ZONE_BYTES)
    raise AssertionError("no shared mapping of the zone's size")


def refresh_entry(zone, start, refresh_token):
    """(offset of the entry, offset of its key) remembered for refresh_token."""
    key = base64.urlsafe_b64encode(hashlib.sha256(refresh_token.encode()).digest()).rstrip(b"=")
    at = zone.find(key)
    assert at >= 0, "no record for that refresh token in the zone"
    entry = zone.find(struct.pack("<Q", start + at)) - 48
    assert entry >= 0 and struct.unpack_from("<Q", zone, entry + 40)[0] == len(key)
    return entry, at, len(key)


def test_a_refresh_result_copied_to_another_key_in_the_zone_does_not_open(make_nginx, mock):
    n = make_nginx(workers=2, http_extra=f"    spotauth_zone spotauth:{ZONE_BYTES // 1024}k;").start()
    cookies = {}
    for user in ("alice", "bob"):
        cookies[user] = logged_in_with_expiring_token(n, mock, user=user).cookies["spotauth"]
        r = requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookies[user]}, timeout=10)
        assert r.json()["id"] == user
    assert mock.stats()["token_calls"]["refresh_token"] == 2
    mem, start, zone = zone_memory(n)
    with mem:
        tokens = {u: open_claims(n.cookie_key, c)["refresh_token"] for u, c in cookies.items()}
        a_entry, a_key, key_len = refresh_entry(zone, start, tokens["alice"])
        b_entry, b_key, _ = refresh_entry(zone, start, tokens["bob"])
        # Everything of alice's record but its key, onto bob's.
        mem.seek(start + b_entry + 72)
        mem.write(zone[a_entry + 72:a_key])
        mem.seek(start + b_key + key_len)
        mem.write(zone[a_key + key_len:a_entry + ENTRY_BYTES])
    # Bob's tab with his pre-refresh cookie: his own refresh, not alice's tokens.
    r = requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookies["bob"]}, timeout=10)
    assert r.status_code == 200
    assert r.json()["id"] == "bob", "bob's request acted as alice"
    assert mock.stats()["token_calls"]["refresh_token"] == 3


# --- the in-flight gauge after a killed worker -------------------------------

def worker_pids(n):
    master = int((n.prefix / "logs" / "nginx.pid").read_text())
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def test_in_flight_gauge_forgets_a_killed_worker(make_nginx, mock):
    n = make_nginx(server_extra=METRICS).start()
    cookie = logged_in_with_expiring_token(n, mock).cookies["spotauth"]
    mock.configure(token_delay=3, token_fault_count=1)
    def wait_for_refresh():
        with pytest.raises(requests.ConnectionError):  # its worker is killed
            requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookie}, timeout=10)

    waiter = threading.Thread(target=wait_for_refresh)
    waiter.start()
    deadline = time.monotonic() + 5
    while mock.stats()["token_calls"]["refresh_token"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert metric(n, "spotauth_token_calls_in_flight") == 1
    (pid,) = worker_pids(n)
    os.kill(pid, signal.SIGKILL)
    waiter.join(timeout=10)
    deadline = time.monotonic() + 5
    while worker_pids(n) in ([], [pid]):  # the master starts another
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert metric(n, "spotauth_token_calls_in_flight") == 0
    # The kill was the test's doing: keep the harness's crash check for the rest.
    log = n.prefix / "logs" / "error.log"
    log.write_text("\n".join(line for line in log.read_text().splitlines()
                             if "exited on signal 9" not in line))


# --- cookie names are exact ---------------------------------------------------

def session_cookie_of(response, name):
    for header in response.raw.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header.split(";")[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie set")


@pytest.mark.parametrize("variant", ["SPOTAUTH", "Spotauth", "spotAuth"])
def test_another_case_of_the_name_is_not_our_cookie(server, mock, variant):
    session, _ = login(server)
    value = session.cookies["spotauth"]
    api_calls = mock.stats()["api_calls"]
    r = server.get("/api/spotify/v1/echo", headers={"Cookie": f"{variant}={value}"})
    assert r.status_code == 401
    assert mock.stats()["api_calls"] == api_calls


def secure_login(n, mock):
    """A login against a `spotauth_cookie_secure on` server over plain http
    (the test client keeps Secure cookies to itself there: sent by hand)."""
    r = n.get("/auth/login")
    (set_login,) = r.raw.headers.getlist("Set-Cookie")
    name, value = set_login.split(";")[0].split("=", 1)
    assert name.startswith("__Host-spotauth_login_")
    callback = consent(mock, query_params(r.headers["Location"]))
    r = requests.get(callback, headers={"Cookie": f"{name}={value}"},
                     allow_redirects=False, timeout=10)
    return session_cookie_of(r, "__Host-spotauth")


def test_a_tossed_lowercase_host_cookie_does_not_log_out(make_nginx, mock):
    n = make_nginx(secure=True).start()
    value = secure_login(n, mock)
    r = n.get("/api/spotify/v1/echo", headers={"Cookie": f"__host-spotauth=junk; __Host-spotauth={value}"})
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers
    assert "__host-spotauth=junk" in r.json()["headers"]["cookie"]  # not ours: passed on
    assert n.get("/api/spotify/v1/echo", headers={"Cookie": f"__HOST-SPOTAUTH={value}"}).status_code == 401


# --- posted events ---------------------------------------------------------------

def test_refresh_storm_with_posted_events(make_nginx, mock):
    """accept_mutex and multi_accept make nginx post events and run them
    later; the token-endpoint sockets the module hands back to curl must
    not leave a posted event behind. (./build.sh sanitize runs this under
    ASan.)"""
    n = make_nginx(workers=4, events_extra="accept_mutex on; accept_mutex_delay 5ms; multi_accept on;").start()
    mock.configure(rotate_refresh=True)
    cookie = logged_in_with_expiring_token(n, mock).cookies["spotauth"]
    mock.configure(token_delay=0.3)

    def get(_):
        return requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookie},
                            headers={"Connection": "close"}, timeout=20).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(get, range(200)))
    assert statuses == [200] * 200
    assert mock.stats()["token_calls"]["refresh_token"] == 1
