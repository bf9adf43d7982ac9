"""The deployment examples of contrib/ (docs/deploy.md).

contrib/kubernetes/spotauth.yaml: the nginx configuration of its ConfigMap
passes `nginx -t` with the module, without a warning once its CHANGE values
are filled in, and serves what the Deployment relies on: the readiness
probe's /healthz and login redirects that stay paths behind a
TLS-terminating edge (absolute_redirect off).
contrib/systemd/nginx-spotauth-stop.conf: a drop-in systemd accepts for
Debian's nginx.service; nginx-dns-reload.service and .timer: units it
accepts next to that service. (contrib/Dockerfile needs a Docker engine, which
the test machines do not have.)"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import MODULE, NGINX, NGINX_VERSION, ROOT, free_port, new_key_text, scratch_dir, wait_for_port

MANIFEST = ROOT / "contrib" / "kubernetes" / "spotauth.yaml"


def configmap_file(manifest, name):
    """The text of a `name: |` block of the manifest (PyYAML is not among
    the test dependencies; the block is indented four spaces)."""
    lines = manifest.splitlines()
    start = lines.index(f"  {name}: |") + 1
    block = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block) + "\n"


def test_kubernetes_example_config():
    manifest = MANIFEST.read_text()
    conf = configmap_file(manifest, "spotauth.conf")
    assert "mountPath: /etc/spotauth\n" in manifest and "spotauth_key_file           /etc/spotauth/" in conf
    prefix = scratch_dir("spotauth-k8s-")
    (prefix / "logs").mkdir()
    for name, text in (("spotauth.key", new_key_text()), ("spotify-client-secret", "s3cret\n")):
        (prefix / name).write_text(text)
        (prefix / name).chmod(0o400)  # the Secret's defaultMode
    port = free_port()
    snippet = (conf
               .replace("CHANGE-ME-client-id", "0123456789abcdef0123456789abcdef")
               .replace("/etc/spotauth/", f"{prefix}/")
               .replace("listen 8080;", f"listen 127.0.0.1:{port};")
               # No DNS on test machines; nginx resolves upstream hosts and
               # the resolver's name at startup.
               .replace("server api.spotify.com:443", "server 127.0.0.1:443")
               .replace("resolver kube-dns.kube-system.svc.cluster.local ", "resolver 127.0.0.1 "))
    assert "CHANGE-ME" not in snippet
    if NGINX_VERSION < (1, 27, 3):
        # The image's nginx follows DNS (`resolve`); an older one under test
        # checks the rest.
        snippet = snippet.replace(" resolve;", ";").replace("resolver 127.0.0.1 ipv6=off;", "")
    # The image's snippet, where the ConfigMap includes it from.
    (prefix / "snippets").mkdir()
    shutil.copy(ROOT / "conf" / "snippets" / "spotauth-proxy.conf", prefix / "snippets")
    (prefix / "nginx.conf").write_text(
        f"load_module {MODULE};\npid logs/nginx.pid;\nerror_log logs/error.log;\n"
        f"events {{}}\nhttp {{\n{snippet}\n}}\n")
    command = [NGINX, "-p", f"{prefix}/", "-c", "nginx.conf"]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    assert "[warn]" not in check.stderr, check.stderr

    nginx = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, nginx)
        base = f"http://127.0.0.1:{port}"
        health = requests.get(base + "/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        page = requests.get(base + "/dashboard.html", allow_redirects=False, timeout=10)
        assert page.status_code == 302
        assert page.headers["Location"] == "/auth/login?return_to=%2Fdashboard.html"
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)


DEBIAN_UNIT = Path("/lib/systemd/system/nginx.service")


@pytest.mark.skipif(not shutil.which("systemd-analyze") or not DEBIAN_UNIT.exists(),
                    reason="needs systemd-analyze and Debian's nginx.service")
def test_systemd_drop_in_verifies(tmp_path):
    """contrib/systemd/nginx-spotauth-stop.conf is a valid drop-in for
    Debian's nginx.service (systemd-analyze loads drop-ins from the unit
    path, and reports unknown keys and bad commands on stderr)."""
    shutil.copy(DEBIAN_UNIT, tmp_path / "nginx.service")
    (tmp_path / "nginx.service.d").mkdir()
    shutil.copy(ROOT / "contrib" / "systemd" / "nginx-spotauth-stop.conf",
                tmp_path / "nginx.service.d" / "spotauth-stop.conf")
    env = dict(os.environ, SYSTEMD_UNIT_PATH=f"{tmp_path}:")
    verify = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "nginx.service")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr
    # The drop-in was read: a key it cannot have is reported.
    (tmp_path / "nginx.service.d" / "zz-probe.conf").write_text("[Service]\nNoSuchKey=1\n")
    probe = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "nginx.service")], env=env,
                           capture_output=True, text=True, timeout=60)
    assert "NoSuchKey" in probe.stderr, probe.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze") or not DEBIAN_UNIT.exists(),
                    reason="needs systemd-analyze and Debian's nginx.service")
def test_systemd_dns_reload_timer_verifies(tmp_path):
    """contrib/systemd/nginx-dns-reload.{service,timer} (docs/production.md,
    "DNS": nginx before 1.27.3 looks api.spotify.com up only at start and on
    reload) are valid units next to Debian's nginx.service."""
    shutil.copy(DEBIAN_UNIT, tmp_path / "nginx.service")
    units = [tmp_path / f"nginx-dns-reload.{kind}" for kind in ("service", "timer")]
    for unit in units:
        shutil.copy(ROOT / "contrib" / "systemd" / unit.name, unit)
    env = dict(os.environ, SYSTEMD_UNIT_PATH=f"{tmp_path}:")
    verify = subprocess.run(["systemd-analyze", "verify", *map(str, units)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr
    # The files were checked: a command that does not exist is reported.
    units[0].write_text(units[0].read_text().replace("/usr/sbin/nginx -t", "/usr/sbin/no-such-nginx -t"))
    probe = subprocess.run(["systemd-analyze", "verify", *map(str, units)], env=env,
                           capture_output=True, text=True, timeout=60)
    assert "no-such-nginx" in probe.stderr, probe.stderr
