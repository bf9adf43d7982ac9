#!/usr/bin/python3
"""spotauth load benchmarks (scenarios 1-4) and the results table.

Run by bench/run.sh, which builds and runs the micro-benchmarks (scenario 5)
first and hands their JSON over with --micro-json. Everything listens on
127.0.0.1 only; every load run is bounded in time and requests.

  1. overhead      `spotauth on` with a valid session vs plain proxy_pass with
                   a static Authorization header, same local upstream
  2. refresh storm 1000 concurrent requests carrying one expiring session,
                   2 workers, mock token endpoint with a 0.2 s delay
  3. stalled token endpoint
                   valid sessions under load while another session's refresh
                   stalls 2 s at the token endpoint, vs no stall
  4. memory        worker RSS after 10k and 1M valid-session requests and
                   over 100k refreshes (fast nginx token endpoint)
  7. TLS upstream  the production template (upstream keepalive, verified
                   TLS) vs plain proxy_pass through the same snippet, and
                   without keepalive; a latency mode (bench/tls_upstream.py)

Compared configurations run side by side in one run, alternating in short
rounds; the table reports medians and the median of per-round ratios.
"""
import argparse
import asyncio
import datetime
import http.client
import json
import os
import platform
import re
import secrets
import base64
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
# t/ is the import root of the test helpers, as pytest.ini's `pythonpath = t`
# makes it for the tests; a script run from bench/ names it here, once.
sys.path.insert(0, str(ROOT / "t"))
from loopback import free_port, wait_for_port  # noqa: E402
from mock_control import MockSpotify  # noqa: E402
from session_cookie import client_key_text, expiring, seal, session_claims  # noqa: E402
import tls_upstream  # noqa: E402

BENCH = ROOT / "bench"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
PYTHON = "/usr/bin/python3"
CLIENT_ID = "bench-client"
COOKIE = "spotauth"  # spotauth_cookie_secure off
UPSTREAM_BODY = '{"id":"alice","display_name":"Alice Liddell","type":"user","product":"premium"}'
FAST_TOKEN_BODY = '{"access_token":"t","token_type":"Bearer","expires_in":30}'


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values) if values else float("nan")


# ---------------------------------------------------------------------------
# Mock Spotify and nginx


NGINX_CONF = """
load_module {module};
worker_processes {workers};
worker_rlimit_nofile 20000;
pid logs/nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log off;
""" + tls_upstream.SCRATCH_PATHS + """    log_format refresh '$status $spotauth_session_status';

    spotauth_client_id {client_id};
    spotauth_client_secret_file client-secret;
    spotauth_key_file spotauth.key;
    spotauth_redirect_uri http://127.0.0.1:{port}/auth/callback;
    spotauth_scopes "user-read-email user-top-read";
    spotauth_authorize_url http://{mock}/authorize;
    spotauth_token_url http://{mock}/api/token;
    spotauth_api_url http://{mock};
    spotauth_cookie_secure off;
    spotauth_timeout 10s;
{http_extra}
    upstream json_up {{
        server 127.0.0.1:{up_port};
        keepalive 32;
    }}

    # The local upstream (a small JSON answer) and the fast token endpoint.
    server {{
        listen 127.0.0.1:{up_port} backlog=4096;
        default_type application/json;
        location = /whoami {{ return 200 "$http_authorization|$http_cookie"; }}
        location = /token  {{ return 200 '{fast_token}'; }}
        location /         {{ return 200 '{body}'; }}
    }}

    # Scenarios 1-3 and the valid-session part of 4.
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /auth/login    {{ spotauth_login; }}
        location = /auth/callback {{ spotauth_callback; }}
        location = /metrics       {{ spotauth_status; }}
        location = /nginx_status  {{ stub_status; }}
        location /api/ {{
            spotauth on;
            proxy_pass http://json_up/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location /plain/ {{
            proxy_pass http://json_up/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer static";
        }}
    }}

    # Scenario 4's refreshes: same key, token endpoint = the fast one above.
    server {{
        listen 127.0.0.1:{refresh_port} backlog=4096;
        spotauth_token_url http://127.0.0.1:{up_port}/token;
        access_log logs/refresh.log refresh;
        location = /auth/login {{ spotauth_login; }}
        location /api/ {{
            spotauth on;
            proxy_pass http://json_up/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


class Nginx:
    """Debian's nginx with the module, from a scratch prefix under /tmp."""

    def __init__(self, scratch, name, module, mock, workers, worker_connections, key=None, http_extra=""):
        self.prefix = scratch / name
        for sub in ("conf", "logs", "tmp"):
            (self.prefix / sub).mkdir(parents=True)
        self.prefix.chmod(0o755)
        self.port, self.up_port, self.refresh_port = free_port(), free_port(), free_port()
        self.key = key or secrets.token_bytes(32)
        (self.prefix / "conf" / "spotauth.key").write_text(base64.b64encode(self.key).decode() + "\n")
        (self.prefix / "conf" / "client-secret").write_text(mock.client_secret + "\n")
        (self.prefix / "conf" / "nginx.conf").write_text(NGINX_CONF.format(
            module=module, workers=workers, worker_connections=worker_connections,
            client_id=CLIENT_ID, port=self.port, up_port=self.up_port,
            refresh_port=self.refresh_port, mock=mock.hostport, body=UPSTREAM_BODY,
            fast_token=FAST_TOKEN_BODY, http_extra=http_extra))
        self.mock = mock
        self.proc = None

    def command(self, *extra):
        return [NGINX, "-p", f"{self.prefix}/", "-c", "conf/nginx.conf", *extra]

    def start(self):
        check = subprocess.run(self.command("-t", "-q"), capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + check.stderr)
        self.proc = subprocess.Popen(self.command("-g", "daemon off;"), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for port in (self.port, self.up_port, self.refresh_port):
            wait_for_port(port, self.proc, timeout=10)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def base(self, port=None):
        return f"http://127.0.0.1:{port or self.port}"

    def worker_pids(self):
        text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(p) for p in text.split()]

    def rss_kb(self, pid):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {pid}")

    def metrics(self):
        r = requests.get(self.base() + "/metrics", timeout=10)
        r.raise_for_status()
        values = {}
        for line in r.text.splitlines():
            m = re.match(r'^([a-z_]+(?:\{[^}]*\})?) ([0-9.eE+-]+)$', line)
            if m:
                values[m.group(1)] = float(m.group(2))
        return values

    def error_log_problems(self):
        path = self.prefix / "logs" / "error.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return [l for l in text.splitlines()
                if "[alert]" in l or "[emerg]" in l or "[crit]" in l or "exited on signal" in l]


def expiring_login(server, user):
    """A session cookie whose (hour-long) access token expires in 30 s,
    inside the 60 s leeway: every request with it refreshes. (A token that
    lives 30 s from the start is refreshed only in its second half.)"""
    return expiring(client_key_text(base64.b64encode(server.key).decode(), CLIENT_ID), login(server, user))


def login(server, user):
    """The browser flow against the mock: returns the session cookie value."""
    session = requests.Session()
    r = session.get(server.base() + "/auth/login", params={"return_to": "/"},
                    allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    params = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    r = requests.get(server.mock.url + "/authorize/decide", allow_redirects=False, timeout=10,
                     params={**params, "user": user, "decision": "agree"})
    assert r.status_code == 302, r.text
    r = session.get(r.headers["Location"], allow_redirects=False, timeout=10)
    assert r.status_code == 302, f"callback answered {r.status_code}: {r.text}"
    return session.cookies[COOKIE]


def mint_sessions(key, count, now):
    """`count` distinct valid session cookies sealed with the key file's
    `key` bound to the bench's client id, as the servers seal them."""
    key_text = client_key_text(base64.b64encode(key).decode(), CLIENT_ID)
    return [seal(key_text, session_claims(f"user{i}", now)) for i in range(count)]


def get(url, cookie, timeout=15):
    """One GET with only our cookie (no jar), keeping the answer's Set-Cookie."""
    r = requests.get(url, headers={"Cookie": f"{COOKIE}={cookie}"}, allow_redirects=False,
                     timeout=timeout)
    return r


# ---------------------------------------------------------------------------
# Load generators


def cpu_ns(pids):
    """CPU time the processes have run, in ns (/proc/<pid>/schedstat)."""
    return sum(int(Path(f"/proc/{p}/schedstat").read_text().split()[0]) for p in pids)


def wrk(url, cookie=None, seconds=4, connections=32, limit=None, timeout_s=5, pids=(),
        cookies_file=None):
    """wrk -t1 (nginx has one worker and the machine two cores). With
    `limit`, stops after that many responses; `seconds` is then the bound.
    With `pids` (nginx workers), also reports their CPU time per request."""
    cmd = [WRK, "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s",
           "-s", str(BENCH / "report.lua")]
    if cookie:
        cmd += ["-H", f"Cookie: {COOKIE}={cookie}"]
    cmd.append(url)
    env = dict(os.environ, WRK_LIMIT=str(limit or 0), WRK_COOKIES=str(cookies_file or ""))
    cpu_before = cpu_ns(pids)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    cpu = cpu_ns(pids) - cpu_before
    m = re.search(r"^WRKJSON (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    result = json.loads(m.group(1))
    result["errors"] = sum(result[k] for k in result if k.startswith("err_"))
    if pids and result["requests"]:
        result["cpu_us_per_req"] = round(cpu / 1000 / result["requests"], 2)
        result["cpu_share"] = round(cpu / 1000 / result["duration_us"], 3)
    return result


def storm(port, path, cookie, n, timeout=30.0):
    """n connections opened first, then one request on each at once.
    Returns (statuses, set_cookie_count, seconds from first send to last answer)."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Cookie: {COOKIE}={cookie}\r\nConnection: close\r\n\r\n").encode()

    async def connect():
        return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)

    async def one(conn, t0):
        reader, writer = conn
        try:
            writer.write(request)
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), timeout)
        finally:
            writer.close()
        done = time.monotonic() - t0
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return (int(m.group(1)) if m else 0,
                f"\r\nset-cookie: {COOKIE}=".encode() in data.lower(), done)

    async def main():
        conns = await asyncio.gather(*[connect() for _ in range(n)], return_exceptions=True)
        ok = [c for c in conns if not isinstance(c, BaseException)]
        t0 = time.monotonic()
        answers = await asyncio.gather(*[one(c, t0) for c in ok], return_exceptions=True)
        return len(conns) - len(ok), answers

    connect_failures, answers = asyncio.run(main())
    statuses = [a[0] if not isinstance(a, BaseException) else 0 for a in answers]
    statuses += [0] * connect_failures
    cookies = sum(1 for a in answers if not isinstance(a, BaseException) and a[1])
    times = [a[2] for a in answers if not isinstance(a, BaseException)]
    return statuses, cookies, max(times) if times else float("nan"), median(times)


class SideLoop(threading.Thread):
    """Keeps one request with an expiring session in flight: each one's
    refresh stalls at the token endpoint; a new one starts when it returns."""

    def __init__(self, port, path, cookie):
        super().__init__(daemon=True)
        self.port, self.path, self.cookie = port, path, cookie
        self.stopping = threading.Event()
        self.results = []  # (status, seconds)

    def run(self):
        while not self.stopping.is_set():
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            try:
                conn.request("GET", self.path, headers={"Cookie": f"{COOKIE}={self.cookie}"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
            finally:
                conn.close()
            self.results.append((status, time.monotonic() - started))

    def stop(self):
        self.stopping.set()
        self.join(timeout=20)


# ---------------------------------------------------------------------------
# Scenarios


def alternate(configs, rounds):
    """ABAB... with the order flipped every round (AB, BA, AB)."""
    order = []
    for i in range(rounds):
        order.append(configs if i % 2 == 0 else list(reversed(configs)))
    return order


def scenario_overhead(server, cookie, args, cookies_file=None, label="1."):
    """spotauth on vs plain proxy_pass, side by side. With `cookies_file`,
    every request carries the next of its session cookies (report.lua), on
    both sides; otherwise all carry `cookie`."""
    log(f"{label} overhead: checking both locations")
    first = cookie
    if cookies_file:
        first = cookies_file.read_text().split("\n", 1)[0]
    spot = get(server.base() + "/api/whoami", first)
    plain = get(server.base() + "/plain/whoami", first)
    assert spot.status_code == 200 and spot.text.startswith("Bearer BQ"), spot.text[:80]
    assert "Set-Cookie" not in spot.headers, "a valid session must not be refreshed"
    assert plain.status_code == 200 and plain.text.startswith("Bearer static"), plain.text[:80]
    urls = {"spotauth": server.base() + "/api/v1/me", "plain": server.base() + "/plain/v1/me"}
    cookie = None if cookies_file else cookie
    for name in urls:  # warm-up: connections, upstream keepalive, caches
        wrk(urls[name], cookie, seconds=1, connections=args.connections, cookies_file=cookies_file)
    pids = server.worker_pids()
    rounds = []
    for i, order in enumerate(alternate(list(urls), args.rounds)):
        row = {}
        for name in order:
            row[name] = wrk(urls[name], cookie, seconds=args.round_seconds, connections=args.connections,
                            pids=pids, cookies_file=cookies_file)
            log(f"{label} round {i + 1} {name}: {row[name]['rps']:.0f} req/s p50 {row[name]['p50_us']} us "
                f"p99 {row[name]['p99_us']} us, worker {row[name]['cpu_us_per_req']:.1f} us CPU/req "
                f"({row[name]['cpu_share']:.0%} of a core), errors {row[name]['errors']}")
        rounds.append(row)
    return {"rounds": rounds}


def scenario_overhead_uncached(server, args):
    """Scenario 1b: as 1, but requests rotate through more distinct valid
    sessions than a worker's session cache holds (512), so that every
    request of the spotauth side opens its cookie (decrypt + parse)."""
    log(f"1b. minting {args.uncached_sessions:,} distinct sessions")
    cookies = mint_sessions(server.key, args.uncached_sessions, int(time.time()))
    cookies_file = server.prefix / "uncached-sessions.txt"
    cookies_file.write_text("\n".join(cookies) + "\n")
    result = scenario_overhead(server, None, args, cookies_file=cookies_file, label="1b.")
    result["sessions"] = len(cookies)
    result["cookie_bytes"] = round(sum(len(c) for c in cookies) / len(cookies))
    return result


def scenario_stall(server, valid_cookie, mock, args):
    log("3. stalled token endpoint: preparing a session that refreshes on every request")
    mock.reset()
    stalling_cookie = expiring_login(server, "stall")
    # Every refresh sleeps 2 s and hands out another token inside the leeway,
    # so the stalling session refreshes again on each request (no cache hit).
    mock.reset()
    mock.configure(access_ttl=30, token_delay=args.stall_seconds)
    url = server.base() + "/api/v1/me"
    pids = server.worker_pids()
    rounds, side_results = [], []
    for i, order in enumerate(alternate(["baseline", "stall"], args.rounds)):
        row = {}
        for name in order:
            side = None
            if name == "stall":
                side = SideLoop(server.port, "/api/v1/me", stalling_cookie)
                side.start()
                time.sleep(0.3)  # its refresh is now waiting at the token endpoint
            row[name] = wrk(url, valid_cookie, seconds=args.round_seconds, connections=args.connections,
                            pids=pids)
            if side:
                side.stop()
                side_results += side.results
            log(f"3. round {i + 1} {name}: {row[name]['rps']:.0f} req/s p50 {row[name]['p50_us']} us "
                f"p99 {row[name]['p99_us']} us, worker {row[name]['cpu_us_per_req']:.1f} us CPU/req, "
                f"errors {row[name]['errors']}")
        rounds.append(row)
    calls = mock.stats()["token_calls"]["refresh_token"]
    mock.reset()
    return {"rounds": rounds, "side": side_results, "token_calls": calls}


def scenario_storm(server, mock, args):
    rounds = []
    for i in range(args.storm_rounds):
        mock.reset()
        cookie = expiring_login(server, f"storm{i}")
        mock.reset()  # counters to zero, long-lived tokens again
        mock.configure(token_delay=args.storm_delay)
        before = server.metrics()
        statuses, cookies, drain, p50 = storm(server.port, "/api/v1/me", cookie, args.storm)
        stats = mock.stats()
        after = server.metrics()

        def delta(name):
            return int(after.get(name, 0) - before.get(name, 0))

        failed = sum(1 for s in statuses if s != 200)
        row = {"requests": len(statuses), "failed": failed, "set_cookie": cookies,
               "drain_s": drain, "p50_s": p50, "token_calls": stats["token_calls"]["refresh_token"],
               "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
               "joins": delta("spotauth_refresh_singleflight_joins_total"),
               "remote_waits": delta("spotauth_refresh_remote_waits_total"),
               "cache_hits": delta("spotauth_refresh_cache_hits_total"),
               "refreshes_ok": delta('spotauth_refreshes_total{result="ok"}')}
        log(f"2. round {i + 1}: {row['token_calls']} token call(s), {failed} failed of "
            f"{len(statuses)}, drained in {drain:.3f} s, {cookies} Set-Cookie; joins "
            f"{row['joins']}, remote waits {row['remote_waits']}, cache hits {row['cache_hits']}")
        rounds.append(row)
    mock.reset()
    return {"rounds": rounds}


class RedisServer:
    """redis-server on a free loopback port, stopped by PID (scenario 6)."""

    def __init__(self, scratch):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(scratch)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc, timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def two_port_storm(ports, cookie, n):
    """storm() split over two machines, at once."""
    results = []
    threads = [threading.Thread(target=lambda p=p: results.append(storm(p, "/api/v1/me", cookie, n // len(ports))))
               for p in ports]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = [s for r in results for s in r[0]]
    return statuses, sum(r[1] for r in results), max(r[2] for r in results)


def scenario_fleet(machines, mock, args):
    """Scenario 6: two machines with one Redis. A rotating refresh storm split
    across both, then the valid-session overhead with spotauth_redis set."""
    first, second = machines
    rounds = []
    for i in range(args.storm_rounds):
        mock.reset()
        mock.configure(rotate_refresh=True)
        cookie = expiring_login(first, f"fleet{i}")
        mock.reset()
        mock.configure(rotate_refresh=True, token_delay=args.storm_delay)
        statuses, cookies, drain = two_port_storm([first.port, second.port], cookie, args.storm)
        calls = mock.stats()["token_calls"]["refresh_token"]
        failed = sum(1 for x in statuses if x != 200)
        log(f"6. round {i + 1}: {calls} token call(s), {failed} failed of {len(statuses)} over two machines, "
            f"drained in {drain:.3f} s")
        rounds.append({"token_calls": calls, "failed": failed, "requests": len(statuses), "drain_s": drain})
    mock.reset()
    overhead = scenario_overhead(first, login(first, "alice"), args, label="6b.")
    return {"rounds": rounds, "overhead": overhead}


def scenario_memory(server, mock, args):
    mock.reset()
    valid_cookie = login(server, "mem")
    expiring_cookie = expiring_login(server, "memrefresh")
    mock.reset()
    (worker,) = server.worker_pids()
    url = server.base() + "/api/v1/me"
    refresh_url = server.base(server.refresh_port) + "/api/v1/me"
    r = get(refresh_url, expiring_cookie)
    assert r.status_code == 200 and "Set-Cookie" in r.headers, (r.status_code, r.text[:200])
    checkpoints = []

    def checkpoint(label, requests_done, extra=None):
        time.sleep(0.5)
        rss = server.rss_kb(worker)
        checkpoints.append({"label": label, "requests": requests_done, "rss_kb": rss, **(extra or {})})
        log(f"4. {label}: worker RSS {rss} kB")

    total = 0
    for target in (args.mem_first, args.mem_requests):
        run = wrk(url, valid_cookie, seconds=args.mem_bound, connections=args.connections,
                  limit=target - total)
        total += run["requests"]
        if run["errors"]:
            raise RuntimeError(f"memory run had {run['errors']} errors: {run}")
        checkpoint(f"after {total:,} valid-session requests", total, {"rps": run["rps"]})

    distinct = mint_sessions(server.key, args.distinct_sessions, int(time.time()))
    distinct_note = None
    r = get(url, distinct[0])
    if r.status_code != 200 or "Set-Cookie" in r.headers:
        distinct_note = f"skipped: a minted session cookie was answered {r.status_code}"
    if distinct_note:
        log(f"4. distinct sessions {distinct_note}")
    else:
        cookies_file = server.prefix / "sessions.txt"
        cookies_file.write_text("\n".join(distinct) + "\n")
        done = 0
        for target in (args.distinct_first, args.distinct_requests):
            run = wrk(url, seconds=args.mem_bound, connections=args.connections,
                      limit=target - done, cookies_file=cookies_file)
            done += run["requests"]
            if run["errors"]:
                raise RuntimeError(f"distinct-session run had {run['errors']} errors: {run}")
            checkpoint(f"after {done:,} requests over {len(distinct):,} distinct sessions", total,
                       {"rps": run["rps"], "distinct": done})

    before = server.metrics()
    log_path = server.prefix / "logs" / "refresh.log"
    lines_before = len(log_path.read_text().splitlines())
    refreshes = 0
    for target in (args.refresh_warmup, args.mem_refreshes):
        run = wrk(refresh_url, expiring_cookie, seconds=args.mem_bound, connections=1,
                  limit=target - refreshes)
        refreshes += run["requests"]
        checkpoint(f"after {refreshes:,} refreshes", total, {"rps": run["rps"], "refreshes": refreshes})
    after = server.metrics()
    time.sleep(1.2)  # nginx flushes the access log buffer when a request ends; be safe
    lines = log_path.read_text().splitlines()[lines_before:]
    ok_key = 'spotauth_refreshes_total{result="ok"}'
    counted = {
        "requests": len(lines),
        "refreshed_200": sum(1 for l in lines if l == "200 refreshed"),
        "refreshes_ok": after.get(ok_key, 0) - before.get(ok_key, 0),
        "joins": after.get("spotauth_refresh_singleflight_joins_total", 0)
        - before.get("spotauth_refresh_singleflight_joins_total", 0),
        "cache_hits": after.get("spotauth_refresh_cache_hits_total", 0)
        - before.get("spotauth_refresh_cache_hits_total", 0),
    }
    log(f"4. refresh count check: {counted}")
    return {"checkpoints": checkpoints, "counted": counted, "distinct_note": distinct_note}


# ---------------------------------------------------------------------------
# Report


def fmt_int(x):
    return f"{x:,.0f}"


def status(ok, near=None):
    if ok:
        return "met"
    return "below goal, above floor" if near else "**MISSED**"


def cpu_ticks():
    """(busy, steal, total) jiffies of all CPUs from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


def process_ticks():
    """{pid: (command, utime + stime jiffies)} of every process."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        rparen = stat.rfind(")")
        fields = stat[rparen + 2:].split()
        out[int(d.name)] = (stat[stat.find("(") + 1:rparen], int(fields[11]) + int(fields[12]))
    return out


def others_sample(exclude, seconds=1.0):
    """CPU used by other processes over `seconds`: (cores used, [(command, % of a core)])."""
    hz = os.sysconf("SC_CLK_TCK")
    before, t0 = process_ticks(), time.monotonic()
    time.sleep(seconds)
    after, elapsed = process_ticks(), time.monotonic() - t0
    usage = []
    for pid, (comm, ticks) in after.items():
        if pid in exclude or pid not in before:
            continue
        share = (ticks - before[pid][1]) / hz / elapsed
        if share > 0.02:
            usage.append((comm, share))
    usage.sort(key=lambda x: -x[1])
    return sum(u for _, u in usage), usage[:4]


def own_ticks():
    """CPU jiffies of this process and its reaped children (wrk, nginx, the mock)."""
    t = os.times()
    return (t.user + t.system + t.children_user + t.children_system) * os.sysconf("SC_CLK_TCK")


def machine_description(module, started_at):
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    nginx_v = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip()
    wrk_v = subprocess.run([WRK, "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    load = os.getloadavg()
    sha = subprocess.run(["sha256sum", str(module)], capture_output=True, text=True).stdout.split()[0]
    others, top = others_sample({os.getpid()})
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "include",
                            "ngx_http_spotauth_module.cpp"],
                           capture_output=True, text=True).stdout.split("\n")
    dirty = [line[3:] for line in dirty if line.strip()]
    return {
        "source": f"git {head}" + (f" with local changes to {', '.join(dirty)}" if dirty else ", clean"),
        "cpu": cpu, "cores": os.cpu_count(), "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(), "nginx": nginx_v.replace("nginx version: ", ""),
        "wrk": wrk_v.split(" Copyright")[0], "python": platform.python_version(),
        "date": started_at.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load": " ".join(f"{x:.2f}" for x in load),
        "others_start": others,
        "top": ", ".join(f"{c} {u:.0%}" for c, u in top) or "none",
        "module": f"{module} (sha256 {sha[:16]}…, {time.strftime('%Y-%m-%d %H:%M', time.localtime(Path(module).stat().st_mtime))})",
    }


def render(results, args, machine, started_at, elapsed):
    rows = []

    def overhead_rows(ov, name, goal, floor, what):
        rr = ov["rounds"]
        ratios = [r["spotauth"]["rps"] / r["plain"]["rps"] for r in rr]
        ratio = median(ratios)
        spot_rps = median([r["spotauth"]["rps"] for r in rr])
        plain_rps = median([r["plain"]["rps"] for r in rr])
        errors = sum(r[n]["errors"] for r in rr for n in r)
        goal_text = f"≥ {goal:.2f}" + (f" (floor {floor:.2f})" if floor else "")
        rows.append((name, f"req/s, spotauth ÷ plain proxy (median of per-round ratios){what}",
                     f"**{ratio:.3f}** ({fmt_int(spot_rps)} vs {fmt_int(plain_rps)} req/s; "
                     f"rounds {', '.join(f'{x:.3f}' for x in ratios)})",
                     goal_text, status(ratio >= goal, ratio >= floor if floor else None)))
        for p in ("p50", "p99"):
            s = median([r["spotauth"][f"{p}_us"] for r in rr])
            b = median([r["plain"][f"{p}_us"] for r in rr])
            pr = median([r["spotauth"][f"{p}_us"] / r["plain"][f"{p}_us"] for r in rr])
            rows.append((name, f"{p} latency, spotauth ÷ plain",
                         f"{pr:.3f} ({s / 1000:.2f} vs {b / 1000:.2f} ms)", "—", "info"))
        cpu = median([r["plain"]["cpu_us_per_req"] / r["spotauth"]["cpu_us_per_req"] for r in rr])
        rows.append((name, "worker CPU per request, plain ÷ spotauth (1.0 = no overhead)",
                     f"{cpu:.3f} ({median([r['spotauth']['cpu_us_per_req'] for r in rr]):.1f} vs "
                     f"{median([r['plain']['cpu_us_per_req'] for r in rr]):.1f} µs, both server "
                     "blocks included)", "—", "info"))
        rows.append((name, "failed requests (non-2xx, socket errors)", str(errors), "0",
                     status(errors == 0)))

    ov = results.get("overhead")
    if ov:
        overhead_rows(ov, "1. overhead", 0.97, 0.95, "")
    ou = results.get("overhead_uncached")
    if ou:
        # A regression guard (the cookie stays a self-contained JWE, so its
        # opening has a floor): judge it on the median of several runs.
        overhead_rows(ou, "1b. overhead, uncached sessions", 0.93, None,
                      f"; every request a session the worker has not cached ({ou['sessions']:,} "
                      "in rotation); a regression guard, judged over several runs")

    st = results.get("storm")
    if st:
        rr = st["rounds"]
        calls = [r["token_calls"] for r in rr]
        failed = sum(r["failed"] for r in rr)
        total = sum(r["requests"] for r in rr)
        cookies = sum(r["set_cookie"] for r in rr)
        rows.append(("2. refresh storm", f"token-endpoint calls per storm of {args.storm}",
                     ", ".join(map(str, calls)) + f" ({len(rr)} storms)", "exactly 1",
                     status(all(c == 1 for c in calls))))
        rows.append(("2. refresh storm", "failed requests", f"{failed} of {fmt_int(total)} "
                     f"({cookies} answers carried the new cookie; per storm: single-flight joins "
                     f"{', '.join(str(r['joins']) for r in rr)}, cross-worker waits "
                     f"{', '.join(str(r['remote_waits']) for r in rr)}, cache hits "
                     f"{', '.join(str(r['cache_hits']) for r in rr)})", "0", status(failed == 0)))
        drains = [r["drain_s"] for r in rr]
        rows.append(("2. refresh storm", f"time to drain (token delay {args.storm_delay} s)",
                     f"{median(drains):.3f} s median "
                     f"(rounds {', '.join(f'{d:.3f}' for d in drains)}; "
                     f"median answer {median([r['p50_s'] for r in rr]):.3f} s)", "—", "info"))

    fl = results.get("fleet")
    if fl:
        rr = fl["rounds"]
        calls = [r["token_calls"] for r in rr]
        failed = sum(r["failed"] for r in rr)
        rows.append(("6. two machines + Redis", f"token-endpoint calls per rotating storm of {args.storm} "
                     "split over both", ", ".join(map(str, calls)) + f" ({len(rr)} storms)", "exactly 1",
                     status(all(c == 1 for c in calls))))
        drains = ", ".join(f"{r['drain_s']:.3f}" for r in rr)
        rows.append(("6. two machines + Redis", "failed requests",
                     f"{failed} of {fmt_int(sum(r['requests'] for r in rr))} (drained in {drains} s)", "0",
                     status(failed == 0)))
        overhead_rows(fl["overhead"], "6b. overhead with spotauth_redis", 0.95, None,
                      "; a valid session, Redis configured (no round trip per request)")

    sl = results.get("stall")
    if sl:
        rr = sl["rounds"]
        ratios = [r["stall"]["p99_us"] / r["baseline"]["p99_us"] for r in rr]
        ratio = median(ratios)
        rps_ratio = median([r["stall"]["rps"] / r["baseline"]["rps"] for r in rr])
        side = sl["side"]
        side_ok = sum(1 for s, _ in side if s == 200)
        errors = sum(r[n]["errors"] for r in rr for n in r)
        rows.append(("3. stalled token endpoint",
                     f"p99 of valid sessions, {args.stall_seconds:g} s stall ÷ no stall",
                     f"**{ratio:.3f}** ({median([r['stall']['p99_us'] for r in rr]) / 1000:.2f} vs "
                     f"{median([r['baseline']['p99_us'] for r in rr]) / 1000:.2f} ms; rounds "
                     f"{', '.join(f'{x:.3f}' for x in ratios)})", "≤ 1.2", status(ratio <= 1.2)))
        p50_ratio = median([r["stall"]["p50_us"] / r["baseline"]["p50_us"] for r in rr])
        cpu_ratio = median([r["stall"]["cpu_us_per_req"] / r["baseline"]["cpu_us_per_req"] for r in rr])
        rows.append(("3. stalled token endpoint", "req/s; p50; worker CPU per request (stall ÷ no stall)",
                     f"{rps_ratio:.3f}; {p50_ratio:.3f}; {cpu_ratio:.3f}", "—", "info"))
        rows.append(("3. stalled token endpoint", "stalled requests during the stall rounds",
                     f"{len(side)} stalled requests, {side_ok} answered 200 in "
                     f"{median([t for _, t in side]):.2f} s median; wrk errors {errors}",
                     "all 200, wrk errors 0", status(side_ok == len(side) and errors == 0)))

    mem = results.get("memory")
    if mem:
        cp = mem["checkpoints"]
        valid = [c for c in cp if "refreshes" not in c and "distinct" not in c]
        dist = [c for c in cp if "distinct" in c]
        refr = [c for c in cp if "refreshes" in c]
        growth = valid[-1]["rss_kb"] - valid[0]["rss_kb"]
        rows.append(("4. memory", "worker RSS after " + " / ".join(
            f"{fmt_int(c['requests'])}" for c in valid) + " valid-session requests",
            " → ".join(f"{c['rss_kb']:,} kB" for c in valid) + f"; growth **{growth:+,} kB**",
            "growth < 1 MB", status(growth < 1024)))
        if dist:
            dgrowth = dist[-1]["rss_kb"] - dist[0]["rss_kb"]
            dfill = dist[0]["rss_kb"] - valid[-1]["rss_kb"]
            rows.append(("4. memory", f"worker RSS over requests cycling through "
                         f"{args.distinct_sessions:,} distinct sessions (after "
                         + " / ".join(fmt_int(c["distinct"]) for c in dist) + "; the module's "
                         "per-worker session cache churns)",
                         " → ".join(f"{c['rss_kb']:,} kB" for c in dist) + f"; growth **{dgrowth:+,} kB** "
                         f"(first pass {dfill:+,} kB: cache filling)", "growth < 1 MB",
                         status(dgrowth < 1024)))
        elif mem.get("distinct_note"):
            rows.append(("4. memory", "distinct sessions", mem["distinct_note"], "—", "info"))
        base = dist[-1] if dist else valid[-1]
        rgrowth = refr[-1]["rss_kb"] - refr[0]["rss_kb"]
        rgrowth_total = refr[-1]["rss_kb"] - base["rss_kb"]
        c = mem["counted"]
        exact = c["refreshed_200"] == c["requests"] == c["refreshes_ok"] and c["joins"] == 0
        rows.append(("4. memory", f"worker RSS over refreshes (after {fmt_int(refr[0]['refreshes'])} "
                     f"→ {fmt_int(refr[-1]['refreshes'])})",
                     " → ".join(f"{x['rss_kb']:,} kB" for x in refr) + f"; growth **{rgrowth:+,} kB** "
                     f"({rgrowth_total:+,} kB since the checkpoint before the refreshes)",
                     "growth < 1 MB", status(rgrowth < 1024 and rgrowth_total < 1024)))
        rows.append(("4. memory", "refreshes verified by counting",
                     f"{fmt_int(c['requests'])} requests, {fmt_int(c['refreshed_200'])} answered 200 "
                     f"`refreshed`, refreshes_total{{ok}} +{fmt_int(c['refreshes_ok'])}, joins "
                     f"+{c['joins']:.0f}, cache hits +{c['cache_hits']:.0f}", "N requests = N refreshes",
                     status(exact)))

    tl = results.get("tls")
    if tl:
        rows.extend(tls_upstream.rows(tl, args, median, status))

    micro = results.get("micro")
    if micro:
        def ns(name):
            return micro.get(name)
        labels = [("BM_OpenSession", "open + validate session cookie (open_session)"),
                  ("BM_SealSession", "seal session (seal_session)"),
                  ("BM_BearerHeader", "build `Bearer …` header value"),
                  ("BM_StripCookies", "strip our cookie from the Cookie header"),
                  ("BM_OpenSessionOldKey", "open a cookie sealed with a rotated-out key"),
                  ("BM_OpenTampered", "reject a tampered cookie")]
        med = results.get("micro_median", {})
        for name, label in labels:
            if ns(name) is not None:
                rows.append(("5. micro", label, f"{ns(name):,.0f} ns (median {med.get(name, 0):,.0f})",
                             "—", "info"))
        oi = ns("BM_OpenAndInject")
        if oi is not None:
            rows.append(("5. micro", "open + inject (open_session + Bearer + strip_cookies): a "
                         "cookie's first request in a worker", f"**{oi / 1000:.2f} µs** (median "
                         f"{med.get('BM_OpenAndInject', 0) / 1000:.2f})", "< 2 µs", status(oi < 2000)))
        mi = ns("BM_CacheMissOpenAndInject")
        if mi is not None:
            rows.append(("5. micro", "open + inject through a SessionCache miss (the module's path "
                         "for a cookie it does not hold: open, and remember it if seen before; 4,000 in rotation)",
                         f"{mi / 1000:.2f} µs (median {med.get('BM_CacheMissOpenAndInject', 0) / 1000:.2f})",
                         "—", "info"))
        co = ns("BM_CachedOpen")
        ci = ns("BM_CachedOpenAndInject")
        if ci is not None:
            rows.append(("5. micro", "cached open + inject (SessionCache hit: the module's path for "
                         "a cookie it has seen)", f"**{ci / 1000:.2f} µs** (median "
                         f"{med.get('BM_CachedOpenAndInject', 0) / 1000:.2f}; cache hit alone "
                         f"{co:,.0f} ns)", "< 2 µs", status(ci < 2000)))

    table = ["| Scenario | Metric | Result | Goal | Status |", "|---|---|---|---|---|"]
    table += [f"| {' | '.join(r)} |" for r in rows]
    table_text = "\n".join(table)

    md = ["# spotauth benchmark results", "",
          f"Generated by `bench/run.sh` on {machine['date']}: load scenarios {elapsed:.0f} s"
          + (f", whole run (with the micro-benchmarks' build and run) {time.time() - args.started_at:.0f} s"
             if args.started_at else "") + ".", "",
          "Command: `" + args.command + "`", "",
          table_text, ""]
    others = results.get("others_run", 0.0)
    busy = others > 0.25 or machine["others_start"] > 0.25
    md += ["## Machine", "",
           f"- CPU: {machine['cpu']}, {machine['cores']} cores; memory {machine['memory']}",
           f"- kernel {machine['kernel']}; nginx {machine['nginx']}; {machine['wrk']}; "
           f"Python {machine['python']}",
           f"- module: {machine['module']}; sources (core for the micro-benchmarks): {machine['source']}",
           f"- load average at start: {machine['load']}; at end: {results['load_end']}",
           f"- other processes' CPU: {machine['others_start']:.2f} cores in a 1 s sample before "
           f"the load scenarios ({machine['top']}); {others:.2f} cores on average during them "
           f"(machine busy time minus this run's own processes); steal {results.get('steal_run', 0):.2f} cores",
           ""]
    if busy:
        md += [f"**The machine was busy while this ran**: other processes used {others:.2f} of the "
               f"{machine['cores']} cores on average during the load scenarios. Absolute numbers are "
               "depressed and noisy; the ratios, measured side by side in alternating rounds, are "
               "what count.", ""]
    md += ["## Setup", "",
           "- One nginx (Debian's binary, the module loaded from a copy of "
           "`build/ngx_http_spotauth_module.so`) per scenario group, from a scratch prefix "
           "under /tmp; `access_log off` except for the refresh-counting server; everything "
           "on 127.0.0.1.",
           "- Upstream: a second server block of the same nginx answering "
           f"`return 200 '{UPSTREAM_BODY}'` (application/json), reached through "
           "`upstream json_up { keepalive 32; }` with `proxy_http_version 1.1; "
           "proxy_set_header Connection \"\";` by both compared locations.",
           f"- Scenarios 1 and 3: `worker_processes 1`; `wrk -t1 -c{args.connections} "
           f"-d{args.round_seconds}s` (one wrk thread, so nginx and wrk each get about one of the "
           "two cores); both locations receive the same `Cookie: spotauth=<session>` header "
           "(about 0.7 kB; spotauth strips it before proxying, so its upstream request is that much "
           "smaller). Plain side: `proxy_set_header Authorization \"Bearer static\"`. "
           f"{args.rounds} rounds per configuration, alternating (AB, BA, AB, …), after a 1 s warm-up "
           "each; the ratio is the median of the per-round ratios. Latency is wrk's, at "
           "saturation (closed loop).",
           f"- Scenario 1b: as scenario 1, but each request (both sides) carries the next of "
           f"{args.uncached_sessions:,} distinct valid session cookies (minted with the server's key in "
           "the documented format, as in scenario 4; rotated by bench/report.lua), more than the "
           "512 a worker's session cache holds, so the spotauth side decrypts and parses the "
           "cookie of every request: the cost of a cookie's first request in a worker. (The cache "
           "remembers a cookie on its second opening, when the mark of its first survived; with "
           "this rotation few do.)",
           f"- Scenario 2: `worker_processes 2`, `worker_connections 8192`; a Python asyncio client "
           f"opens {args.storm} connections, then sends one request on each at once (Connection: "
           "close) with the same session cookie whose access token is inside the 60 s leeway; "
           f"the mock Spotify (t/mock_spotify.py) token endpoint sleeps {args.storm_delay} s. "
           "Token calls from the mock's `/_mock/stats`; drain = first send to last answer. "
           f"{args.storm_rounds} storms, each with a fresh login.",
           f"- Scenario 3: as scenario 1's spotauth side (valid session); in the `stall` rounds "
           "a side thread keeps one request with another, expiring session in flight: the mock "
           f"sleeps {args.stall_seconds:g} s on every token call and issues 30 s tokens, so each "
           "of its requests refreshes again (a new one starts when the last returns).",
           "- Scenario 4: a fresh nginx, `worker_processes 1`; VmRSS of the worker from "
           "/proc/<pid>/status 0.5 s after each run. Valid-session requests: wrk -t1 "
           f"-c{args.connections}, stopped after a count (bench/report.lua), one session. Then "
           f"requests cycling through {args.distinct_sessions:,} distinct valid sessions (minted "
           "in the documented cookie format with the server's key), more than the module's "
           "per-worker session cache holds, so it fills and then churns (a cookie is remembered "
           "on its second opening); that growth is measured once the cache is full. Refreshes: wrk -t1 -c1 "
           "(sequential, so no single-flight join) with one expiring session against a server "
           "whose `spotauth_token_url` is a location of the same nginx answering "
           f"`{FAST_TOKEN_BODY}`; expires_in 30 < 60 s leeway, so every request refreshes; "
           "counted with an access log of `$status $spotauth_session_status` and the "
           "`spotauth_status` metrics. Refresh growth is measured from the warm-up checkpoint.",
           "- Scenario 7: " + tls_upstream.SETUP.format(rounds=args.rounds, seconds=args.round_seconds,
                                                         connections=args.connections, delay=args.tls_delay_ms),
           "- Scenario 5: Google Benchmark (`bench/micro.cpp`, build/bench, RelWithDebInfo: -O2 as the module's core is built), "
           "fastest of 5 repetitions (median in brackets), CPU time. Token sizes as the mock's (access 152, refresh 132 "
           "characters; cookie ≈ 0.7 kB). `open_session` is the cost of a cookie's first request "
           "in a worker (the goal's figure); `SessionCache::open` hits are what the module pays "
           "for a cookie it has opened before.",
           ""]
    raw = []
    for key, value in results.items():
        if key in ("load_end", "others_run", "steal_run", "micro_median"):
            continue
        if isinstance(value, dict) and "rounds" in value:
            raw.append(f"{key}:")
            raw += ["  " + json.dumps(r, default=str) for r in value["rounds"]]
            rest = {k: v for k, v in value.items() if k != "rounds"}
            if rest:
                raw.append("  " + json.dumps(rest, default=str))
        else:
            raw.append(f"{key}: {json.dumps(value, default=str)}")
    md += ["## Raw data", "", "Latencies in µs; one line per round (scenarios 1 and 3: both "
           "configurations of the round).", "", "```", *raw, "```", ""]
    profile = BENCH / "PROFILE.md"
    if profile.exists():
        md += ["Profiles of the figures that miss their goals: [PROFILE.md](PROFILE.md).", ""]
    return table_text, "\n".join(md)


# ---------------------------------------------------------------------------


class Deadline(Exception):
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", default=os.environ.get(
        "SPOTAUTH_MODULE", str(ROOT / "build" / "ngx_http_spotauth_module.so")))
    ap.add_argument("--micro-json", help="Google Benchmark JSON output of spotauth_bench")
    ap.add_argument("--out", default=str(BENCH / "results.md"))
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--started-at", type=float, default=0.0, help="epoch seconds when run.sh began")
    ap.add_argument("--scenarios", default="1,2,3,4,6,7", help="comma-separated subset of 1,2,3,4,6,7")
    ap.add_argument("--tls-delay-ms", type=float, default=5.0,
                    help="scenario 7's latency mode: delay each way through the relay (0: skip it)")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--uncached-sessions", type=int, default=4_000,
                    help="distinct sessions rotated in scenario 1b (0: skip 1b); more than the 512 "
                         "a worker caches")
    ap.add_argument("--round-seconds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--storm", type=int, default=1000)
    ap.add_argument("--storm-rounds", type=int, default=3)
    ap.add_argument("--storm-delay", type=float, default=0.2)
    ap.add_argument("--stall-seconds", type=float, default=2.0)
    ap.add_argument("--mem-first", type=int, default=10_000)
    ap.add_argument("--mem-requests", type=int, default=1_000_000)
    ap.add_argument("--distinct-sessions", type=int, default=2_000)
    ap.add_argument("--distinct-first", type=int, default=20_000)
    ap.add_argument("--distinct-requests", type=int, default=220_000)
    ap.add_argument("--refresh-warmup", type=int, default=1_000)
    ap.add_argument("--mem-refreshes", type=int, default=100_000)
    ap.add_argument("--mem-bound", type=int, default=240, help="longest one memory run may take (s)")
    ap.add_argument("--time-limit", type=int, default=840, help="whole run, seconds")
    args = ap.parse_args()
    scenarios = set(args.scenarios.split(","))

    def on_alarm(_signum, _frame):
        raise Deadline(f"bench exceeded --time-limit {args.time_limit} s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.time_limit)

    started_at = datetime.datetime.now().astimezone()
    t0 = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="spotauth-bench-", dir="/tmp"))
    scratch.chmod(0o755)
    # A private copy: a rebuild of build/ during the run cannot change what runs.
    module = scratch / "ngx_http_spotauth_module.so"
    shutil.copy2(args.module, module)
    module.chmod(0o644)
    machine = machine_description(Path(args.module).resolve(), started_at)
    log(f"machine: {machine['cpu']}, {machine['cores']} cores, load {machine['load']}; other "
        f"processes use {machine['others_start']:.2f} cores ({machine['top']})")
    run_cpu0, run_own0, run_t0 = cpu_ticks(), own_ticks(), time.monotonic()
    results, servers, problems = {}, [], []
    mock = MockSpotify(scratch, CLIENT_ID)
    try:
        if scenarios & {"1", "3"}:
            a = Nginx(scratch, "a", module, mock, workers=1, worker_connections=4096).start()
            servers.append(a)
            valid = login(a, "alice")
            if "1" in scenarios:
                results["overhead"] = scenario_overhead(a, valid, args)
                if args.uncached_sessions:
                    results["overhead_uncached"] = scenario_overhead_uncached(a, args)
            if "3" in scenarios:
                results["stall"] = scenario_stall(a, valid, mock, args)
            a.stop()
        if "2" in scenarios:
            b = Nginx(scratch, "b", module, mock, workers=2, worker_connections=8192).start()
            servers.append(b)
            log(f"2. refresh storm: {args.storm_rounds} × {args.storm} concurrent requests")
            results["storm"] = scenario_storm(b, mock, args)
            b.stop()
        if "6" in scenarios and shutil.which("redis-server"):
            redis = RedisServer(scratch)
            try:
                extra = f"    spotauth_redis redis://127.0.0.1:{redis.port};"
                f1 = Nginx(scratch, "f1", module, mock, workers=2, worker_connections=8192, http_extra=extra).start()
                servers.append(f1)
                f2 = Nginx(scratch, "f2", module, mock, workers=2, worker_connections=8192, key=f1.key,
                           http_extra=extra).start()
                servers.append(f2)
                time.sleep(0.5)  # both connect to Redis (reconnects are logged, not needed here)
                log(f"6. two machines + Redis: {args.storm_rounds} × {args.storm} requests split over both")
                results["fleet"] = scenario_fleet((f1, f2), mock, args)
                f1.stop()
                f2.stop()
            finally:
                redis.stop()
        if "7" in scenarios:
            log("7. TLS upstream: the template vs plain proxy_pass vs no keepalive")
            results["tls"] = tls_upstream.run(scratch, module, NGINX, machine["nginx"].rsplit("/", 1)[1], args,
                                              wrk, log)
            problems += results["tls"].pop("problems", [])
        if "4" in scenarios:
            c = Nginx(scratch, "c", module, mock, workers=1, worker_connections=4096).start()
            servers.append(c)
            log("4. memory")
            results["memory"] = scenario_memory(c, mock, args)
            c.stop()
    finally:
        signal.alarm(0)
        for s in servers:
            s.stop()
            problems += s.error_log_problems()
        mock.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    if args.micro_json:
        # The fastest repetition: on a shared machine other processes only
        # ever add time (caches, preemption), so the minimum is the estimate.
        data = json.loads(Path(args.micro_json).read_text())
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
        runs = {}
        for b in data["benchmarks"]:
            if b.get("run_type") == "iteration":
                name = b.get("run_name", b["name"])
                runs.setdefault(name, []).append(b["cpu_time"] * scale[b.get("time_unit", "ns")])
        results["micro"] = {name: min(v) for name, v in runs.items()}
        results["micro_median"] = {name: median(v) for name, v in runs.items()}
    results["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    # Everything this run started has been reaped: the rest of the machine's
    # busy time went to other processes.
    run_cpu1, run_own1 = cpu_ticks(), own_ticks()
    hz, run_s = os.sysconf("SC_CLK_TCK"), time.monotonic() - run_t0
    results["others_run"] = max(0.0, (run_cpu1[0] - run_cpu0[0]) - (run_own1 - run_own0)) / hz / run_s
    results["steal_run"] = (run_cpu1[1] - run_cpu0[1]) / hz / run_s
    if problems:
        results["nginx_log_problems"] = problems[:20]
    table, md = render(results, args, machine, started_at, time.monotonic() - t0)
    Path(args.out).write_text(md)
    print(table)
    if problems:
        print("\nnginx error log problems:\n" + "\n".join(problems[:20]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
