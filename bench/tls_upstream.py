"""Scenario 7 of bench/bench.py: the production template against a TLS
upstream, a fake api.spotify.com with its own CA (certificates from
t/fake_pki.py, served by a second nginx: TLS 1.2 and 1.3, keepalive).

Three locations of one front nginx (one worker), side by side in
alternating rounds, all verifying the upstream's certificate:
  template      the shipped API location (`spotauth on` + the snippet):
                the upstream block with keepalive
  plain         plain proxy_pass through the same snippet and upstream,
                with a static Authorization header (the limit)
  no keepalive  `spotauth on` with proxy_pass to the address itself (how
                the template read before: a TLS handshake per call)
Worker CPU per request (the front worker's, from /proc) and req/s.

Latency mode: the same three through a relay that holds every chunk of
data for --tls-delay-ms in each direction (this kernel has no netem), one
request at a time: with keepalive a call costs one round trip, without it
the TLS handshake's round trips come on top. (The relay accepts the TCP
connection itself, so the TCP handshake's round trip is not delayed: a real
network adds one more to the no-keepalive figure.)
"""
import asyncio
import base64
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# t/ is the import root of the test helpers, as pytest.ini's `pythonpath = t`
# makes it for the tests; a script run from bench/ names it here, once.
sys.path.insert(0, str(ROOT / "t"))
from fake_pki import make_pki  # noqa: E402
from loopback import free_port, wait_for_port  # noqa: E402
from session_cookie import client_key_text, seal, session_claims  # noqa: E402

CONFIGS = ("template", "plain", "no_keepalive")
PATHS = {"template": "/api/spotify/v1/me", "plain": "/plain/v1/me", "no_keepalive": "/nokeepalive/v1/me"}
BODY = '{"id":"alice","display_name":"Alice Liddell","type":"user","product":"premium"}'

# Where each benchmark nginx keeps its temporary files: its own scratch prefix.
SCRATCH_PATHS = """\
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
"""

UPSTREAM_CONF = """
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
""" + SCRATCH_PATHS + """    server {{
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {pki}/good.pem;
        ssl_certificate_key {pki}/good.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        default_type application/json;
        location / {{ return 200 '{body}'; }}
    }}
}}
"""

FRONT_CONF = """
load_module {module};
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
""" + SCRATCH_PATHS + """    spotauth_client_id bench-client;
    spotauth_client_secret_file client-secret;
    spotauth_key_file spotauth.key;
    spotauth_redirect_uri http://127.0.0.1:{port}/auth/callback;
    spotauth_cookie_secure off;

{upstream}

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /auth/login {{ spotauth_login; }}
{api_locations}
        location /plain/ {{
            rewrite ^/plain(/.*)$ $1 break;
            include snippets/spotauth-proxy.conf;
            proxy_set_header Authorization "Bearer static";
        }}
        location /nokeepalive/ {{
            spotauth on;
            proxy_pass https://127.0.0.1:{api_port}/;
            proxy_set_header Host api.spotify.com;
            proxy_ssl_server_name on;
            proxy_ssl_name api.spotify.com;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate {pki}/ca.pem;
            proxy_ssl_verify_depth 2;
            proxy_ssl_protocols TLSv1.2 TLSv1.3;
        }}
    }}
}}
"""


# The table's setup line (bench.py fills in the round parameters).
SETUP = ("a fake api.spotify.com: a second nginx (one worker) answering the JSON body over TLS 1.2/1.3 with a "
         "certificate of a test CA (t/fake_pki.py: root, intermediate, leaf); the front nginx, `worker_processes "
         "1`, with the template's `upstream api.spotify.com` block and API locations as `./build.sh example-conf` "
         "writes them and conf/snippets/spotauth-proxy.conf (only the upstream address and the CA file "
         "substituted). Plain side: the same snippet and upstream, `proxy_set_header Authorization \"Bearer "
         "static\"`. No keepalive: `spotauth on` with `proxy_pass https://127.0.0.1:PORT/` and the same TLS "
         "verification (HTTP/1.0, a handshake per call, TLS sessions resumed). `wrk -t1 -c{connections} "
         "-d{seconds}s`, {rounds} rounds, the three in rotating order; worker CPU per request is the front "
         "worker's only (/proc/<pid>/schedstat). Latency mode: the same front through a relay holding each "
         "chunk {delay:g} ms each way (`--tls-delay-ms`), `wrk -c1`; the relay accepts TCP itself, so a real network "
         "adds one more round trip to the no-keepalive figure.")


def shipped_parts(nginx_version):
    """The template's upstream block and its two API locations, in the
    syntax of `nginx_version`, as `./build.sh example-conf` writes them."""
    template = subprocess.run([str(ROOT / "build.sh"), "example-conf", nginx_version], capture_output=True,
                              text=True, timeout=60, check=True).stdout
    upstream = re.search(r"^upstream api\.spotify\.com \{\n.*?^\}\n", template, re.M | re.S).group(0)
    api = re.search(r"^    location /api/spotify/ \{\n.*?^    \}\n", template, re.M | re.S).group(0)
    replay = re.search(r"^    location @spotify_replay \{\n.*?^    \}\n", template, re.M | re.S).group(0)
    return upstream, api + replay


class Process:
    """An nginx from a scratch prefix; stopped by PID."""

    def __init__(self, nginx, prefix, conf, port):
        self.prefix = prefix
        for sub in ("logs", "tmp", "snippets"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / "nginx.conf").write_text(conf)
        command = [nginx, "-p", f"{prefix}/", "-c", "nginx.conf"]
        check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + check.stderr)
        self.proc = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for_port(port, self.proc, timeout=10)

    def worker_pids(self):
        text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(p) for p in text.split()]

    def problems(self):
        text = (self.prefix / "logs" / "error.log").read_text(errors="replace")
        return [line for line in text.splitlines()
                if "[alert]" in line or "[emerg]" in line or "[crit]" in line or "exited on signal" in line]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def front(nginx, module, nginx_version, prefix, pki, api_port, key_text):
    port = free_port()
    prefix.mkdir(parents=True)
    prefix.chmod(0o755)
    (prefix / "spotauth.key").write_text(key_text)
    (prefix / "client-secret").write_text("bench-secret\n")
    upstream, api_locations = shipped_parts(nginx_version)
    upstream = upstream.replace("server api.spotify.com:443", f"server 127.0.0.1:{api_port}")
    upstream = upstream.replace("resolver CHANGE-ME-name-server;", "resolver 127.0.0.1;")
    (prefix / "snippets").mkdir()
    (prefix / "snippets" / "spotauth-proxy.conf").write_text(
        (ROOT / "conf" / "snippets" / "spotauth-proxy.conf").read_text()
        .replace("/etc/ssl/certs/ca-certificates.crt", f"{pki}/ca.pem"))
    conf = FRONT_CONF.format(module=module, port=port, api_port=api_port, pki=pki, upstream=upstream,
                             api_locations=api_locations)
    process = Process(nginx, prefix, conf, port)
    process.port = port
    return process


class DelayRelay(threading.Thread):
    """127.0.0.1:port -> 127.0.0.1:target, every chunk held `delay` seconds
    each way, in order (an asyncio loop in a thread)."""

    def __init__(self, target, delay):
        super().__init__(daemon=True)
        self.target, self.delay, self.port = target, delay, free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    async def pipe(self, reader, writer):
        queue = asyncio.Queue()

        async def send():
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - self.loop.time()))
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            writer.close()

        sender = self.loop.create_task(send())
        try:
            while True:
                data = await reader.read(65536)
                await queue.put((self.loop.time() + self.delay, data))
                if not data:
                    break
        except OSError:
            await queue.put((self.loop.time(), b""))
        await sender

    async def serve(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer),
                             return_exceptions=True)

    def run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self.serve, "127.0.0.1", self.port,
                                                                   backlog=1024))
        self.ready.set()
        self.loop.run_forever()
        server.close()

    async def shutdown(self):
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.loop.stop()

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.shutdown(), self.loop)
        self.join(timeout=10)


def check_answers(process, cookie):
    """Each location answers 200 with the fake's body, before measuring."""
    import requests
    for name in CONFIGS:
        r = requests.get(f"http://127.0.0.1:{process.port}{PATHS[name]}", timeout=10,
                         headers={"Cookie": f"spotauth={cookie}"})
        if r.status_code != 200 or r.text != BODY:
            raise RuntimeError(f"7. {name} answered {r.status_code}: {r.text[:200]}")


def run(scratch, module, nginx, nginx_version, args, wrk, log):
    pki = make_pki(_mkdir(scratch / "tls-pki"))
    key_text = base64.b64encode(secrets.token_bytes(32)).decode() + "\n"
    # The module seals with the key file bound to its client id (docs/security.md).
    cookie = seal(client_key_text(key_text, "bench-client"), session_claims("alice", int(time.time())))
    api_port = free_port()
    upstream = Process(nginx, _mkdir(scratch / "tls-upstream"),
                       UPSTREAM_CONF.format(port=api_port, pki=pki, body=BODY), api_port)
    processes, result = [upstream], {"rounds": [], "latency": {}}
    try:
        f = front(nginx, module, nginx_version, scratch / "tls-front", pki, api_port, key_text)
        processes.append(f)
        check_answers(f, cookie)
        for name in CONFIGS:  # warm-up: connections, TLS sessions, caches
            wrk(f"http://127.0.0.1:{f.port}{PATHS[name]}", cookie, seconds=1, connections=args.connections)
        pids = f.worker_pids()
        for i in range(args.rounds):
            order = CONFIGS[i % 3:] + CONFIGS[:i % 3]
            if i % 2:
                order = tuple(reversed(order))
            row = {}
            for name in order:
                row[name] = wrk(f"http://127.0.0.1:{f.port}{PATHS[name]}", cookie, seconds=args.round_seconds,
                                connections=args.connections, pids=pids)
                log(f"7. round {i + 1} {name}: {row[name]['rps']:.0f} req/s, worker "
                    f"{row[name]['cpu_us_per_req']:.1f} us CPU/req, errors {row[name]['errors']}")
            result["rounds"].append(row)
        if args.tls_delay_ms > 0:
            result["latency"] = latency_mode(scratch, module, nginx, nginx_version, pki, api_port, key_text,
                                             cookie, args, wrk, log, processes)
    finally:
        for p in processes:
            p.stop()
            result.setdefault("problems", []).extend(p.problems())
    return result


def latency_mode(scratch, module, nginx, nginx_version, pki, api_port, key_text, cookie, args, wrk, log,
                 processes):
    relay = DelayRelay(api_port, args.tls_delay_ms / 1000)
    relay.start()
    relay.ready.wait(10)
    try:
        f = front(nginx, module, nginx_version, scratch / "tls-front-delayed", pki, relay.port, key_text)
        processes.append(f)
        check_answers(f, cookie)
        out = {"delay_ms": args.tls_delay_ms}
        for name in CONFIGS:
            wrk(f"http://127.0.0.1:{f.port}{PATHS[name]}", cookie, seconds=1, connections=1)
            out[name] = wrk(f"http://127.0.0.1:{f.port}{PATHS[name]}", cookie, seconds=args.round_seconds,
                            connections=1)
            log(f"7. latency, {args.tls_delay_ms:g} ms each way, {name}: p50 {out[name]['p50_us'] / 1000:.1f} ms "
                f"p99 {out[name]['p99_us'] / 1000:.1f} ms")
        return out
    finally:
        relay.stop()


def _mkdir(path):
    path.mkdir(parents=True)
    path.chmod(0o755)
    return path


def rows(result, args, median, status):
    """The results table's rows of scenario 7."""
    rr = result["rounds"]
    name = "7. TLS upstream"
    out = []

    def cpu(config):
        return median([r[config]["cpu_us_per_req"] for r in rr])

    def rps(config):
        return median([r[config]["rps"] for r in rr])

    ratio = median([r["template"]["cpu_us_per_req"] / r["plain"]["cpu_us_per_req"] for r in rr])
    out.append((name, "worker CPU per request, the template ÷ plain proxy_pass, same upstream and snippet "
                "(median of per-round ratios)",
                f"**{ratio:.3f}** ({cpu('template'):.1f} vs {cpu('plain'):.1f} µs; rounds "
                + ", ".join(f"{r['template']['cpu_us_per_req'] / r['plain']['cpu_us_per_req']:.3f}" for r in rr)
                + f"); without keepalive {cpu('no_keepalive'):.1f} µs", "≤ 1.05", status(ratio <= 1.05)))
    rps_ratio = median([r["template"]["rps"] / r["plain"]["rps"] for r in rr])
    out.append((name, "req/s, the template ÷ plain", f"{rps_ratio:.3f} ({rps('template'):,.0f} vs "
                f"{rps('plain'):,.0f} req/s); without keepalive {rps('no_keepalive'):,.0f} req/s", "—", "info"))
    errors = sum(r[c]["errors"] for r in rr for c in r)
    out.append((name, "failed requests (non-2xx, socket errors)", str(errors), "0", status(errors == 0)))
    lat = result.get("latency")
    if lat:
        out.append((name, f"latency, one call at a time, {lat['delay_ms']:g} ms added each way "
                    "(relay): p50 / p99",
                    "; ".join(f"{c.replace('_', ' ')} {lat[c]['p50_us'] / 1000:.1f} / "
                              f"{lat[c]['p99_us'] / 1000:.1f} ms" for c in CONFIGS), "—", "info"))
    return out
