"""The worker never waits for the token endpoint: proved by ordering, not
by timing. With a single worker process, a callback whose code exchange is
stalled at the mock must not hold up another user's request."""
import threading
import time

import requests

from conftest import consent, login, start_login


def wait_until(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_stalled_code_exchange_does_not_block_other_users(make_nginx, mock):
    n = make_nginx(workers=1).start()
    bob, _ = login(n, user="bob")

    mock.configure(token_delay=2.5)
    alice = requests.Session()
    callback = consent(mock, start_login(n, alice), user="alice")
    finished = []

    def alice_callback():
        r = alice.get(callback, allow_redirects=False, timeout=10)
        finished.append(("alice", r.status_code))

    thread = threading.Thread(target=alice_callback)
    thread.start()
    # Alice's exchange is now parked inside the mock's token endpoint.
    assert wait_until(lambda: mock.stats()["token_calls"]["authorization_code"] == 2)

    r = n.get("/api/spotify/v1/me", session=bob)
    finished.append(("bob", r.status_code))
    thread.join(timeout=15)

    assert finished == [("bob", 200), ("alice", 302)]
