"""spotauth_health: a liveness/readiness answer for load balancers and
orchestrators (keys loaded, shared zone answering)."""
import requests

HEALTH = """
        location = /healthz {
            spotauth_health;
        }"""


def test_healthy_server_answers_ok(make_nginx):
    n = make_nginx(server_extra=HEALTH).start()
    r = n.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body.pop("version")  # which build runs (test_build_info.py)
    assert body == {"status": "ok", "checks": {"keys": "ok", "zone": "ok"}}


def test_head_has_no_body(make_nginx):
    n = make_nginx(server_extra=HEALTH).start()
    r = requests.head(n.base + "/healthz", timeout=10)
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Cache-Control"] == "no-store"


def test_other_methods_are_refused(make_nginx):
    n = make_nginx(server_extra=HEALTH).start()
    for method in ("POST", "PUT", "DELETE"):
        assert requests.request(method, n.base + "/healthz", data="x", timeout=10).status_code == 405


def test_every_worker_answers_ok(make_nginx):
    # Each worker checks the zone for itself; connections spread over them.
    n = make_nginx(server_extra=HEALTH, workers=4).start()
    for _ in range(20):
        with requests.Session() as s:
            assert s.get(n.base + "/healthz", timeout=10).json()["status"] == "ok"


def test_needs_no_session(make_nginx):
    n = make_nginx(server_extra=HEALTH).start()
    r = n.get("/healthz", cookies={"spotauth": "garbage"})
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers
