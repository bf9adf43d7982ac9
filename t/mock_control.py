"""Starts t/mock_spotify.py (or t/mock_providers.py, built on it) on 127.0.0.1
and drives its control API; shared
by the integration tests (t/integration/conftest.py) and the benchmarks
(bench/bench.py)."""
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import requests

MOCK = Path(__file__).resolve().parent / "mock_spotify.py"


class MockSpotify:
    def __init__(self, workdir, client_id, script=MOCK):
        self.client_secret = "secret-" + secrets.token_urlsafe(16)
        secret_file = Path(workdir) / "mock-client-secret"
        secret_file.write_text(self.client_secret)
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--host", "127.0.0.1", "--port", "0",
             "--client-id", client_id, "--client-secret-file", str(secret_file)],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"mock did not start: {line!r}")
        self.url = line.split("listening on", 1)[1].strip()
        self.hostport = urlsplit(self.url).netloc

    def post(self, path, body=None):
        r = requests.post(self.url + path, json=body or {}, timeout=10)
        r.raise_for_status()
        return r.json()

    def get(self, path, **params):
        r = requests.get(self.url + path, params=params, timeout=10)
        r.raise_for_status()
        return r.json()

    def configure(self, **config):
        return self.post("/_mock/config", config)

    def reset(self):
        self.post("/_mock/reset")

    def stats(self):
        return self.get("/_mock/stats")

    def recorded(self, since=None):
        return self.get("/_mock/requests", **({"since": since} if since else {}))

    def stop(self):
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
