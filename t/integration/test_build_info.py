"""Which build runs (a reload keeps the old .so mapped, docs/deploy.md):
spotauth_status's spotauth_build_info, spotauth_health's version, and one
notice per worker in the error log, all with the version of VERSION (plus
the commit when ./build.sh built it)."""
import re
import time

from conftest import NGINX_VERSION, ROOT, STARTUP_TIMEOUT

ENDPOINTS = """
        location = /metrics { spotauth_status; }
        location = /healthz { spotauth_health; }"""
VERSION_FILE = (ROOT / "VERSION").read_text().splitlines()[0]
NGINX = ".".join(map(str, NGINX_VERSION))


def running_version(n):
    text = n.get("/metrics").text
    match = re.search(r'^spotauth_build_info\{version="([^"]+)",nginx="([^"]+)"\} 1$', text, re.M)
    assert match, text
    assert "# TYPE spotauth_build_info gauge" in text
    version, nginx = match.groups()
    assert nginx == NGINX
    assert version == VERSION_FILE or version.startswith(VERSION_FILE + "+git"), version
    return version


def test_status_health_and_log_name_the_same_build(make_nginx):
    n = make_nginx(server_extra=ENDPOINTS, workers=2).start()
    version = running_version(n)
    assert n.get("/healthz").json()["version"] == version
    notice = f"spotauth {version} (nginx {NGINX}) started"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while n.error_log().count(notice) < 2:  # one per worker
        assert time.monotonic() < deadline, n.error_log()
        time.sleep(0.05)
    assert "[notice]" in next(line for line in n.error_log().splitlines() if notice in line)
