"""What Redis can and cannot do to a fleet's users (issue 19): a value moved
between users' keys opens for nobody; a logout made while Redis is stopped
still reaches the other machine once it is back; Redis out of memory costs
no login and no session, and says so (metric, health, one log line); an
anonymous /auth/login writes nothing to Redis. Each machine is an nginx on
127.0.0.1 sharing a redis-server the test starts and stops by PID."""
import base64
import hashlib
import re
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import login
from session_cookie import open_claims
from support.fleet import METRICS, logout, two_machines, wait_until_connected
from support.metrics import gauge
from support.sessions import logged_in_with_expiring_token

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
HEALTH = "        location = /healthz { spotauth_health; }"


def cli(redis, *args):
    out = subprocess.run([REDIS_CLI, "-p", str(redis.port), *args], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def refresh_key(refresh_token):
    return base64.urlsafe_b64encode(hashlib.sha256(refresh_token.encode()).digest()).decode().rstrip("=")


def counter(n, sample):
    match = re.search(rf"^{re.escape(sample)} (\S+)$", n.get("/metrics").text, re.M)
    assert match, sample
    return float(match.group(1))


def me(n, cookie):
    return requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookie}, timeout=10)


def until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
    return time.monotonic()


def test_a_result_copied_to_another_users_key_does_not_make_them_that_user(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    mock.configure(rotate_refresh=True)
    alice = logged_in_with_expiring_token(first, mock, user="alice").cookies["spotauth"]
    bob = logged_in_with_expiring_token(first, mock, user="bob").cookies["spotauth"]
    assert me(first, alice).json()["id"] == "alice"  # Alice's refresh leaves her result in Redis
    (alices_result,) = cli(redis, "--scan", "--pattern", "spotauth:result:*").split()
    bobs_key = "spotauth:result:" + refresh_key(open_claims(first.cookie_key, bob)["refresh_token"])
    # Someone who can write to Redis copies Alice's result to Bob's key.
    assert cli(redis, "SET", bobs_key, cli(redis, "GET", alices_result), "PX", "30000") == "OK"
    r = me(second, bob)
    assert r.status_code == 200
    assert r.json()["id"] == "bob"
    resealed = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert open_claims(first.cookie_key, resealed)["sub"] == "bob"
    assert mock.stats()["token_calls"]["refresh_token"] == 2  # Bob's own refresh
    assert counter(second, "spotauth_fleet_values_refused_total") >= 1
    assert second.error_log().count("does not open under the key it was found at") == 1


def test_a_logout_made_while_redis_is_stopped_reaches_the_other_machine_when_it_is_back(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    session, _ = login(first)
    cookie = session.cookies["spotauth"]
    assert me(second, cookie).status_code == 200
    redis.proc.send_signal(signal.SIGSTOP)
    try:
        wait_until_connected(first, second, up=0, timeout=10)  # its reads timed out
        logout(first, cookie)
        assert me(first, cookie).status_code == 401
        assert me(second, cookie).status_code == 200  # the fleet cannot know yet
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    back = time.monotonic()
    reached = until(lambda: me(second, cookie).status_code == 401, 10, "the logout never reached machine 2")
    assert reached - back < 2.0, "took %.2f s" % (reached - back)
    until(lambda: gauge(first, "spotauth_fleet_logouts_pending") == 0, 5, "the outbox was not emptied")


def test_a_logout_waiting_for_redis_survives_a_reload(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    session, _ = login(first)
    cookie = session.cookies["spotauth"]
    redis.proc.send_signal(signal.SIGSTOP)
    try:
        wait_until_connected(first, second, up=0, timeout=10)
        logout(first, cookie)
        first.reload()  # the worker holding the logout for Redis exits
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    until(lambda: me(second, cookie).status_code == 401, 5, "the logout was lost with the old worker")


def test_a_logout_redis_refused_out_of_memory_reaches_the_other_machine_once_it_takes_writes(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis)
    session, _ = login(first)
    cookie = session.cookies["spotauth"]
    assert me(second, cookie).status_code == 200
    cli(redis, "CONFIG", "SET", "maxmemory-policy", "noeviction")
    cli(redis, "CONFIG", "SET", "maxmemory", "1")
    logout(first, cookie)  # answered OOM: not an acknowledgement
    until(lambda: counter(first, 'spotauth_redis_errors_total{reply="oom"}') >= 2, 5, "no retry")
    assert me(second, cookie).status_code == 200
    assert gauge(first, "spotauth_fleet_logouts_pending") == 1
    cli(redis, "CONFIG", "SET", "maxmemory", "0")
    back = time.monotonic()
    reached = until(lambda: me(second, cookie).status_code == 401, 10, "the logout never reached machine 2")
    assert reached - back < 2.0, "took %.2f s" % (reached - back)


def test_redis_out_of_memory_costs_no_login_and_no_session(make_nginx, mock, redis):
    first, second = two_machines(make_nginx, redis, server_extra=METRICS + "\n" + HEALTH)
    mock.configure(rotate_refresh=True)
    cookie = logged_in_with_expiring_token(first, mock).cookies["spotauth"]
    cli(redis, "CONFIG", "SET", "maxmemory-policy", "noeviction")
    cli(redis, "CONFIG", "SET", "maxmemory", "1")
    # A sign-in on one machine: Redis refuses to record its state; the machine's memory decides.
    session, r = login(first)
    assert r.status_code == 302, r.text
    assert "spotauth=" in r.headers["Set-Cookie"]
    assert counter(first, 'spotauth_redis_errors_total{reply="oom"}') >= 1
    health = first.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded" and health.json()["checks"]["redis"] == "refusing"
    assert gauge(first, "spotauth_redis_up") == 0
    # A rotating-token storm over both machines, which cannot coordinate:
    # each refreshes, and the one the provider refuses (the other rotated
    # the token) keeps the session (503, retry) instead of ending it. Which
    # machine's call reaches the provider first is a race.
    mock.configure(token_delay=0.2)
    answers = storm_responses([first, second], cookie)
    per_machine = [[r.status_code for r in answers[0::2]], [r.status_code for r in answers[1::2]]]
    assert [200] * 20 in per_machine, per_machine
    assert {r.status_code for r in answers} <= {200, 503}
    assert not [r for r in answers if "Max-Age=0" in r.headers.get("Set-Cookie", "")]  # nobody logged out
    rotated = [r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1] for r in answers
               if r.headers.get("Set-Cookie", "").startswith("spotauth=")][0]
    assert me(second, rotated).status_code == 200 and me(first, rotated).status_code == 200
    assert first.error_log().count("refuses commands (oom") == 1  # once per outage
    cli(redis, "CONFIG", "SET", "maxmemory", "0")


def storm_responses(machines, cookie, count=40):
    """`count` concurrent requests with one cookie, machine i % len(machines)."""
    def one(i):
        return requests.get(machines[i % len(machines)].base + "/api/spotify/v1/me", cookies={"spotauth": cookie},
                            headers={"Connection": "close"}, timeout=20)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_anonymous_logins_write_nothing_to_redis(make_nginx, mock, redis):
    first, _ = two_machines(make_nginx, redis)
    before = int(cli(redis, "DBSIZE"))
    for _ in range(200):
        r = requests.get(first.base + "/auth/login", allow_redirects=False, timeout=10)
        assert r.status_code == 302
    assert int(cli(redis, "DBSIZE")) == before


def resp(*args):
    """One command in Redis's protocol, for redis-cli --pipe."""
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def test_a_reloaded_machine_learns_new_logouts_past_a_large_revocation_set(make_nginx, mock, redis):
    """400,000 logouts in force: a reloaded worker reads them in pages and
    then learns a fresh logout, where one whole read used to overrun the
    command deadline and start again from 0 forever."""
    first, second = two_machines(make_nginx, redis)
    seconds, micros = (int(x) for x in cli(redis, "TIME").split())
    score, until_s = seconds * 1000 + micros // 1000, seconds + 3600
    commands = []
    for batch in range(400):
        members = []
        for i in range(1000):
            members += [score, f"old-{batch}-{i} {until_s}"]
        commands.append(resp("ZADD", "spotauth:revoked", *members))
    piped = subprocess.run([REDIS_CLI, "-p", str(redis.port), "--pipe"], input=b"".join(commands),
                           capture_output=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert int(cli(redis, "ZCARD", "spotauth:revoked")) == 400_000
    session, _ = login(first)
    cookie = session.cookies["spotauth"]
    second.reload()
    wait_until_connected(second, timeout=10)
    assert me(second, cookie).status_code == 200
    logout(first, cookie)
    until(lambda: me(second, cookie).status_code == 401, 20, "the reloaded machine never learned the logout")
