"""Signed-in sessions for the integration tests: one whose access token is
about to expire (so the next request refreshes), and reading what a session
cookie carries and how often the mock was asked to refresh."""
from conftest import login
from session_cookie import expiring
from support.jose_interop import jose_decrypt


def logged_in_with_expiring_token(server, mock, user="alice"):
    """A session whose access token (an hour-long one) expires in 30 s,
    inside the 60 s leeway, so the next request refreshes; the mock hands
    out long-lived tokens so one refresh is enough."""
    session, r = login(server, user=user)
    assert r.status_code == 302
    (cookie,) = [c for c in session.cookies if c.name == "spotauth"]
    cookie.value = expiring(server.cookie_key, cookie.value)
    return session


def session_cookie_set(response):
    return [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("spotauth=")]


def claims(server, cookie):
    return jose_decrypt(server.prefix / "conf" / "spotauth.key", cookie)["claims"]


def refresh_calls(mock):
    return mock.stats()["token_calls"]["refresh_token"]
