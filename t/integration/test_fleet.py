"""Several machines behind a load balancer: two nginx instances with the
same key file and one Redis (spotauth_redis), all on 127.0.0.1. A rotating
refresh token is used once across both; a logout on one holds on the other
within a second; Redis down, stopped or restarted never answers 5xx and
never costs a session."""
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import REDIS_SERVER, consent, login, start_login
from session_cookie import open_claims, seal
from support.fleet import METRICS, logout, two_machines, wait_until_connected
from support.sessions import logged_in_with_expiring_token

pytestmark = pytest.mark.skipif(not os.path.exists(REDIS_SERVER),
                                reason="redis-server missing (build.sh installs it)")


def storm(machines, cookie, count=40):
    """`count` concurrent requests with one cookie, spread over the machines."""
    def one(i):
        n = machines[i % len(machines)]
        r = requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookie},
                         headers={"Connection": "close"}, timeout=20)
        return r.status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_a_rotating_refresh_is_one_call_across_two_machines(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    mock.configure(rotate_refresh=True)
    cookie = logged_in_with_expiring_token(first, mock).cookies["spotauth"]
    mock.configure(token_delay=0.3)  # the storm arrives while the call is in flight
    for attempt in range(3):
        if attempt:
            mock.reset()
            mock.configure(rotate_refresh=True)
            cookie = logged_in_with_expiring_token(first, mock).cookies["spotauth"]
            mock.configure(token_delay=0.3)
        assert storm([first, second], cookie) == [200] * 40
        assert mock.stats()["token_calls"]["refresh_token"] == 1


def test_the_other_machine_uses_the_stored_result_later(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    mock.configure(rotate_refresh=True)
    cookie = logged_in_with_expiring_token(first, mock).cookies["spotauth"]
    assert first.get("/api/spotify/v1/me", cookies={"spotauth": cookie}).status_code == 200
    # The pre-rotation cookie on the other machine, inside the cache window.
    assert second.get("/api/spotify/v1/me", cookies={"spotauth": cookie}).status_code == 200
    assert mock.stats()["token_calls"]["refresh_token"] == 1


def test_tokens_in_redis_are_sealed(make_nginx, mock, redis):
    first, _ = two_machines(make_nginx, redis)
    cookie = logged_in_with_expiring_token(first, mock).cookies["spotauth"]
    assert first.get("/api/spotify/v1/me", cookies={"spotauth": cookie}).status_code == 200
    keys = subprocess.run(["redis-cli", "-p", str(redis.port), "--scan"], capture_output=True, text=True,
                          timeout=10).stdout.split()
    assert keys and all(k.startswith("spotauth:") for k in keys)
    tokens = mock.get("/_mock/tokens", user="alice", all="1")
    for key in keys:
        value = subprocess.run(["redis-cli", "-p", str(redis.port), "GET", key], capture_output=True,
                               text=True, timeout=10).stdout
        for token in tokens["access_tokens"] + tokens["refresh_tokens"]:
            assert token not in value and token not in key


@pytest.mark.parametrize("trouble", ["killed", "stopped"])
def test_redis_trouble_costs_no_session_and_no_5xx(make_nginx, mock, redis, trouble):
    first, second = two_machines(make_nginx, redis)
    cookie = logged_in_with_expiring_token(first, mock).cookies["spotauth"]
    if trouble == "killed":
        redis.proc.kill()
        redis.proc.wait(timeout=10)
    else:
        redis.proc.send_signal(signal.SIGSTOP)  # connected, never answers
    started = time.monotonic()
    statuses = storm([first, second], cookie)
    assert statuses == [200] * 40
    assert time.monotonic() - started < 10  # commands time out, nobody waits on Redis
    # The fresh cookie of each machine keeps working; the session survived.
    assert first.get("/api/spotify/v1/me", cookies={"spotauth": cookie}).status_code == 200
    if trouble == "killed":
        wait_until_connected(first, second, up=0)
        log = first.error_log()
        assert log.count("spotauth: redis at") >= 1
        assert log.count("unavailable") <= 2  # one line per outage, not per request


def test_redis_restarted_empty_is_picked_up_again(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    redis.stop()
    wait_until_connected(first, second, up=0)
    redis.start()
    wait_until_connected(first, second, up=1, timeout=10)  # reconnect with backoff
    mock.configure(rotate_refresh=True)
    cookie = logged_in_with_expiring_token(first, mock).cookies["spotauth"]
    mock.configure(token_delay=0.3)
    assert storm([first, second], cookie) == [200] * 40
    assert mock.stats()["token_calls"]["refresh_token"] == 1


@pytest.mark.parametrize("url,problem", [
    ("http://127.0.0.1:6379", "must start with redis:// or unix:"),
    ("redis://127.0.0.1:0", "invalid port"),
    ("redis://no-such-host.invalid", "not found"),
])
def test_bad_redis_url_fails_nginx_t(make_nginx, url, problem):
    result = make_nginx(http_extra=f"    spotauth_redis {url};").check()
    assert result.returncode != 0
    assert problem in result.stderr


# --- logout that holds everywhere ------------------------------------------------

def test_logout_on_one_machine_ends_the_copied_cookie_on_the_other_within_a_second(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    session, _ = login(first)
    cookie = session.cookies["spotauth"]
    assert second.get("/api/spotify/v1/me", cookies={"spotauth": cookie}).status_code == 200
    logout(first, cookie)
    started = time.monotonic()
    while True:
        r = second.get("/api/spotify/v1/me", cookies={"spotauth": cookie})
        if r.status_code == 401:
            break
        assert time.monotonic() - started < 1.0, "the other machine still accepts the logged-out cookie"
        time.sleep(0.05)
    assert r.json()["error"] == "session_revoked"
    assert "spotauth=; Path=/; Max-Age=0" in r.headers["Set-Cookie"]
    assert first.get("/api/spotify/v1/me", cookies={"spotauth": cookie}).status_code == 401


def test_logout_without_redis_holds_for_every_worker_of_the_machine(make_nginx, mock):
    n = make_nginx(workers=2, server_extra=METRICS).start()
    session, _ = login(n)
    cookie = session.cookies["spotauth"]
    logout(n, cookie)
    # Fresh connections land on either worker.
    answers = [requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookie},
                            headers={"Connection": "close"}, timeout=10) for _ in range(10)]
    assert {r.status_code for r in answers} == {401}
    assert {r.json()["error"] for r in answers} == {"session_revoked"}
    text = n.get("/metrics").text
    assert re.search(r'^spotauth_sessions_rejected_total\{reason="revoked"\} 10$', text, re.M), text


def test_a_cookie_sealed_before_session_ids_gets_one_when_resealed(make_nginx, mock):
    n = make_nginx()
    session, _ = login(n.start())
    claims = open_claims(n.cookie_key, session.cookies["spotauth"])
    assert claims["sid"]
    del claims["sid"]
    # An hour-long access token 10 s from expiry: the next request refreshes and re-seals.
    claims["access_expires_at"] = int(time.time()) + 10
    claims["access_issued_at"] = claims["access_expires_at"] - 3600
    old = seal(n.cookie_key, claims)
    r = n.get("/api/spotify/v1/me", cookies={"spotauth": old})
    assert r.status_code == 200
    resealed = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert open_claims(n.cookie_key, resealed)["sid"]


# --- login state across machines --------------------------------------------------

def test_a_callback_on_another_machine_than_its_login_works_once(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    session = requests.Session()
    params = start_login(first, session)
    (name,) = [c.name for c in session.cookies if c.name.startswith("spotauth_login")]
    login_value = session.cookies[name]
    callback = consent(mock, params)
    on_second = callback.replace(f":{first.port}/", f":{second.port}/")
    r = requests.get(on_second, cookies={name: login_value}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    assert "spotauth=" in r.headers["Set-Cookie"]
    # A replay on either machine is refused before any token call.
    for n in (first, second):
        replay = requests.get(callback.replace(f":{first.port}/", f":{n.port}/"), cookies={name: login_value},
                              allow_redirects=False, timeout=10)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_state"
    assert mock.stats()["token_calls"]["authorization_code"] == 1


def test_health_is_degraded_not_down_without_redis(make_nginx, mock, redis):
    extra = "        location = /healthz { spotauth_health; }"
    n = make_nginx(http_extra=f"    spotauth_redis {redis.url()};", server_extra=extra + "\n" + METRICS).start()
    wait_until_connected(n)
    r = n.get("/healthz")
    assert r.status_code == 200
    assert {k: v for k, v in r.json().items() if k != "version"} == \
        {"status": "ok", "checks": {"keys": "ok", "zone": "ok", "redis": "ok"}}
    redis.stop()
    wait_until_connected(n, up=0)
    r = n.get("/healthz")
    assert r.status_code == 200  # a load balancer must not pull every machine at once
    assert r.json()["status"] == "degraded" and r.json()["checks"]["redis"] == "unavailable"
