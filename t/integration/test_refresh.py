"""Inline refresh: proactive, single-flight across workers, the rotation
cache window, reactive replay after an upstream 401, and what each kind of
token-endpoint failure does to the session."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import forged_session, login, logout
from session_cookie import open_claims, seal
from support.sessions import claims, logged_in_with_expiring_token, refresh_calls, session_cookie_set


def test_expiring_token_is_refreshed_before_proxying(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    old = claims(server, session.cookies["spotauth"])
    r = server.get("/api/spotify/v1/echo", session=session)
    assert r.status_code == 200
    assert refresh_calls(mock) == 1
    (cookie,) = session_cookie_set(r)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    new = claims(server, session.cookies["spotauth"])
    assert new["access_token"] != old["access_token"]
    assert r.json()["headers"]["authorization"] == "Bearer " + new["access_token"]
    # Not rotated by the mock: the old refresh token is kept.
    assert new["refresh_token"] == old["refresh_token"]
    assert (new["sub"], new["exp"], new["iat"]) == (old["sub"], old["exp"], old["iat"])
    # The fresh cookie needs no further refresh.
    assert server.get("/api/spotify/v1/me", session=session).status_code == 200
    assert refresh_calls(mock) == 1


def test_refresh_uses_basic_auth_and_refresh_grant(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    since = time.time()
    server.get("/api/spotify/v1/me", session=session)
    (call,) = [q for q in mock.recorded(since) if q["path"] == "/api/token"]
    assert call["headers"]["authorization"].startswith("Basic ")
    assert call["body"].startswith("grant_type=refresh_token&refresh_token=")


def test_upstream_error_status_still_gets_the_new_cookie(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    r = server.get("/api/spotify/v1/no-such-endpoint", session=session)
    assert r.status_code == 404
    assert session_cookie_set(r)


def test_rotation_burst_across_two_workers_makes_one_call(make_nginx, mock):
    n = make_nginx(workers=2).start()
    mock.configure(rotate_refresh=True)
    session = logged_in_with_expiring_token(n, mock)
    stale_cookie = session.cookies["spotauth"]

    def one_request(_):
        r = requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": stale_cookie}, timeout=20)
        return r.status_code, session_cookie_set(r)

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(one_request, range(100)))
    assert [status for status, _ in results] == [200] * 100
    assert all(cookies for _, cookies in results), "every response carries the new session"
    assert refresh_calls(mock) == 1
    assert mock.stats()["refresh_tokens_revoked"] == 1

    # A second tab still holding the pre-rotation cookie, inside the window.
    r = requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": stale_cookie}, timeout=10)
    assert r.status_code == 200
    assert refresh_calls(mock) == 1
    rotated = claims(n, session_cookie_set(r)[0].split(";")[0].split("=", 1)[1])
    assert rotated["refresh_token"] != claims(n, stale_cookie)["refresh_token"]


def cookie_of(response):
    return session_cookie_set(response)[0].split(";")[0].split("=", 1)[1]


def test_pre_rotation_cookie_continues_the_chain_when_the_rotated_token_is_due(make_nginx, mock):
    """A tab still holding the pre-rotation cookie comes back when the
    token the storm got is due as well: the refresh must send the newest
    refresh token of the chain, not the revoked one it carries."""
    n = make_nginx(workers=2, http_extra="    spotauth_refresh_leeway 1s;").start()
    mock.configure(rotate_refresh=True, access_ttl=3)
    session, r = login(n)
    assert r.status_code == 302
    # 2.5 s into a 3 s token (sealed so, not waited for): inside the 1 s leeway.
    claims0 = open_claims(n.cookie_key, session.cookies["spotauth"])
    now = time.time()
    claims0["access_issued_at"] = int(now - 2.5)
    claims0["access_expires_at"] = claims0["access_issued_at"] + 3
    old_cookie = seal(n.cookie_key, claims0)

    def with_cookie(cookie):
        return requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookie}, timeout=20)

    with ThreadPoolExecutor(max_workers=20) as pool:
        storm = list(pool.map(with_cookie, [old_cookie] * 20))
    assert [a.status_code for a in storm] == [200] * 20
    assert refresh_calls(mock) == 1
    storm_cookie = cookie_of(storm[0])
    rotated = claims(n, storm_cookie)
    assert rotated["refresh_token"] != claims0["refresh_token"]

    # The storm's token enters its last second (the old tab comes back ~1.7 s
    # after the storm): the clock must pass it, no cookie can say so.
    time.sleep(max(0.0, rotated["access_expires_at"] - 1 + 0.05 - time.time()))
    mock.configure(access_ttl=3600)  # the next token lasts: the checks below need no third call
    r = with_cookie(old_cookie)
    assert r.status_code == 200, r.text
    assert refresh_calls(mock) == 2
    newest = claims(n, cookie_of(r))
    # The newest token of the chain: the provider still accepts it, and
    # only it (earlier tests' sessions of alice aside).
    live = mock.get("/_mock/tokens", user="alice")["refresh_tokens"]
    assert newest["refresh_token"] in live
    assert claims0["refresh_token"] not in live and rotated["refresh_token"] not in live
    # Both the old and the storm's cookie now find the newest result.
    for cookie in (old_cookie, storm_cookie):
        again = with_cookie(cookie)
        assert again.status_code == 200
        assert claims(n, cookie_of(again))["refresh_token"] == newest["refresh_token"]
    assert refresh_calls(mock) == 2


def test_a_full_small_zone_keeps_what_a_pre_rotation_cookie_needs(make_nginx, mock):
    """The intermittent logout of a pre-rotation cookie in a small zone: the
    result that rotated its token was pushed out of the zone, by logouts
    taking its room once anonymous logins had filled it, before the old
    cookie came back; its token then got invalid_grant. A remembered result
    still in its window now gives way to nothing but another refresh."""
    n = make_nginx(workers=2, http_extra="    spotauth_zone spotauth:64k;").start()
    mock.configure(rotate_refresh=True)
    old_cookie = logged_in_with_expiring_token(n, mock).cookies["spotauth"]
    r = n.get("/api/spotify/v1/me", cookies={"spotauth": old_cookie})
    assert r.status_code == 200
    assert refresh_calls(mock) == 1
    # Pressure on the zone: anonymous logins, sign-ins and logouts.
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(lambda _: n.get("/auth/login").status_code, range(3000))) == {302}
    for i in range(30):
        assert login(n, user=f"user{i}")[1].status_code == 302
    for i in range(60):
        logout(n, forged_session(n, f"other{i}"))
    # The tab with the pre-rotation cookie comes back within the window.
    r = n.get("/api/spotify/v1/me", cookies={"spotauth": old_cookie})
    assert r.status_code == 200, r.text
    assert refresh_calls(mock) == 1
    newest = open_claims(n.cookie_key, cookie_of(r))["refresh_token"]
    assert newest in mock.get("/_mock/tokens", user="alice")["refresh_tokens"]


def test_stale_cookie_after_the_window_is_refused(make_nginx, mock):
    n = make_nginx(http_extra="    spotauth_refresh_cache 1s;").start()
    mock.configure(rotate_refresh=True)
    session = logged_in_with_expiring_token(n, mock)
    stale_cookie = session.cookies["spotauth"]
    assert n.get("/api/spotify/v1/me", session=session).status_code == 200
    time.sleep(1.2)
    r = n.get("/api/spotify/v1/me", cookies={"spotauth": stale_cookie})
    assert r.status_code == 401
    assert r.json()["error"] == "refresh_failed"


def test_revoked_refresh_token_ends_the_session(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    mock.post("/_mock/revoke", {"user": "alice"})
    r = server.get("/api/spotify/v1/me", session=session)
    assert r.status_code == 401
    assert r.json()["error"] == "refresh_failed"
    assert r.json()["login_url"] == "/auth/login"
    assert "spotauth=; Path=/; Max-Age=0" in r.headers["Set-Cookie"]
    assert 'session of user "alice" ended: refresh invalid_grant' in server.error_log()


@pytest.mark.parametrize("fault", ["500", "503", "html", "garbage", "missing_access_token", "close", "429"])
def test_transient_failure_keeps_the_session(server, mock, fault):
    session = logged_in_with_expiring_token(server, mock)
    cookie = session.cookies["spotauth"]
    # Two faults: libcurl rightly resends once when a reused connection
    # closes before answering.
    mock.configure(token_fault=fault, token_fault_count=2)
    r = server.get("/api/spotify/v1/me", session=session)
    assert r.status_code == 503
    assert r.json()["error"] == "token_endpoint_unavailable"
    assert r.headers["Retry-After"] == "1"
    assert "Set-Cookie" not in r.headers
    assert session.cookies["spotauth"] == cookie
    # The endpoint has recovered: the same cookie works.
    mock.configure(token_fault=None)
    assert server.get("/api/spotify/v1/me", session=session).status_code == 200


def test_token_endpoint_timeout_keeps_the_session(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    mock.configure(token_fault="hang", token_fault_count=1)
    started = time.monotonic()
    r = server.get("/api/spotify/v1/me", session=session)
    assert r.status_code == 503
    assert time.monotonic() - started < 6  # spotauth_timeout 3s
    assert server.get("/api/spotify/v1/me", session=session).status_code == 200


def test_token_endpoint_down_keeps_the_session(make_nginx, server, mock):
    session = logged_in_with_expiring_token(server, mock)
    down = make_nginx(key_text=server.key_text, token_url="http://127.0.0.1:1/api/token").start()
    r = down.get("/api/spotify/v1/me", cookies={"spotauth": session.cookies["spotauth"]})
    assert r.status_code == 503
    assert "Set-Cookie" not in r.headers
    assert "token endpoint unreachable" in down.error_log()


def test_invalid_client_is_502_and_logged_at_crit(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    mock.configure(token_fault="invalid_client", token_fault_count=1)
    r = server.get("/api/spotify/v1/me", session=session)
    assert r.status_code == 502
    assert r.json()["error"] == "token_endpoint_misconfigured"
    assert "Set-Cookie" not in r.headers
    log = server.error_log()
    assert "[crit]" in log and "token endpoint refuses this client" in log
    assert mock.client_secret not in log


def test_reactive_refresh_after_upstream_401(server, mock):
    mock.configure(access_ttl=3600)
    session, _ = login(server)
    mock.post("/_mock/expire", {"user": "alice"})  # Spotify expired it early
    r = server.get("/api/spotify/v1/echo", session=session)
    assert r.status_code == 200
    assert refresh_calls(mock) == 1
    new = claims(server, session.cookies["spotauth"])
    assert r.json()["headers"]["authorization"] == "Bearer " + new["access_token"]


def test_second_upstream_401_is_passed_through(server, mock):
    session, _ = login(server)
    mock.configure(api_unauthorized=2)
    r = server.get("/api/spotify/v1/me", session=session)
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "The access token expired"  # Spotify's own body
    assert refresh_calls(mock) == 1  # one refresh, one replay, no loop


def test_client_leaving_mid_refresh_does_not_hurt_others(server, mock):
    session = logged_in_with_expiring_token(server, mock)
    cookie = session.cookies["spotauth"]
    mock.configure(token_delay=1.5)
    results = []

    def patient():
        results.append(requests.get(server.base + "/api/spotify/v1/me",
                                    cookies={"spotauth": cookie}, timeout=10).status_code)

    waiter = threading.Thread(target=patient)
    waiter.start()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(server.base + "/api/spotify/v1/me", cookies={"spotauth": cookie}, timeout=0.3)
    waiter.join(timeout=10)
    assert results == [200]
    assert refresh_calls(mock) == 1
    time.sleep(0.2)
    assert "exited on signal" not in server.error_log()


def test_short_lived_token_is_not_refreshed_on_every_request(server, mock):
    # expires_in 1 s, far below the 60 s leeway: the leeway is capped at
    # half the token's lifetime, so a burst right after login refreshes at
    # most once (when the second ticks over), not on every request.
    mock.configure(access_ttl=1)
    session, r = login(server)
    assert r.status_code == 302
    deadline = time.monotonic() + 0.4
    statuses = []
    while len(statuses) < 20 and time.monotonic() < deadline:
        statuses.append(server.get("/api/spotify/v1/me", session=session).status_code)
    assert len(statuses) >= 5 and set(statuses) == {200}, statuses
    assert refresh_calls(mock) <= 1
