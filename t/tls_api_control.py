"""Starts the fake api.spotify.com over TLS (t/tls_api.py) and the fake DNS
server that points its name at 127.0.0.1 (t/fake_dns.py), and reads their
logs; shared by the integration tests and the benchmarks."""
import json
import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parent / "tls_api.py"


class FakeSpotifyAPI:
    """One fake api.spotify.com presenting `cert` (a PEM chain) and `key`;
    `tls` is "1.2", "1.3" or "both"."""

    def __init__(self, workdir, cert, key, tls="both"):
        self.log_path = Path(workdir) / f"tls-api-{id(self)}.jsonl"
        self.log_path.write_text("")
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", "0", "--cert", str(cert), "--key", str(key),
             "--log", str(self.log_path), "--tls", tls],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the fake api.spotify.com did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def events(self, kind=None):
        lines = self.log_path.read_text().splitlines()
        events = [json.loads(line) for line in lines if line.endswith("}")]
        return [e for e in events if kind is None or e["event"] == kind]

    def requests(self):
        return self.events("request")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class FakeDNS:
    """t/fake_dns.py: every name is 127.0.0.1 (for nginx's `resolver`)."""

    def __init__(self, workdir):
        self.log_path = Path(workdir) / f"dns-{id(self)}.jsonl"
        self.log_path.write_text("")
        self.proc = subprocess.Popen([sys.executable, str(SERVER.parent / "fake_dns.py"), "--log",
                                      str(self.log_path)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the fake DNS server did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def questions(self):
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.endswith("}")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
