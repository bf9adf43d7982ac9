"""Several machines behind a load balancer for the fleet tests: two nginx
instances sharing one key file and one Redis (conftest's `redis` fixture),
waiting until both report Redis up, and a logout posted to one of them."""
import time

import requests

from support.metrics import gauge

METRICS = "        location = /metrics { spotauth_status; }"


def two_machines(make_nginx, redis, server_extra=METRICS, **options):
    first = make_nginx(http_extra=f"    spotauth_redis {redis.url()};", server_extra=server_extra, **options).start()
    # The same site behind a load balancer: one key, one registered redirect URI.
    second = make_nginx(key_text=first.key_text, http_extra=f"    spotauth_redis {redis.url()};",
                        server_extra=server_extra, redirect_uri=f"{first.base}/auth/callback", **options).start()
    wait_until_connected(first, second)
    return first, second


def wait_until_connected(*machines, up=1, timeout=5):
    deadline = time.monotonic() + timeout
    while any(gauge(n, "spotauth_redis_up") != up for n in machines):
        assert time.monotonic() < deadline, "spotauth_redis_up did not become %d" % up
        time.sleep(0.02)


def logout(n, cookie):
    r = requests.post(n.base + "/auth/logout", cookies={"spotauth": cookie},
                      headers={"Sec-Fetch-Site": "same-origin"}, timeout=10)
    assert r.status_code == 204
