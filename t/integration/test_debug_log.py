"""With an nginx built --with-debug (`./build.sh test` builds the newest
nginx of the matrix so), the module's decisions appear in the debug log:
the session cookie's status, the access decision, a refresh's wait and
result, the replay after an upstream 401, the callback's state check; and
none of the module's lines holds a token, a cookie or the client secret."""
import re

import pytest

from conftest import login, nginx_configure_args
from support.sessions import logged_in_with_expiring_token

pytestmark = pytest.mark.skipif("--with-debug" not in nginx_configure_args(),
                                reason="needs an nginx built --with-debug (./build.sh test builds one)")


def module_lines(n):
    log = (n.prefix / "logs" / "debug.log").read_text(errors="replace")
    return [line for line in log.splitlines() if "spotauth:" in line]


def test_decisions_are_in_the_debug_log_and_hold_no_secret(make_nginx, mock):
    n = make_nginx(http_extra="    error_log logs/debug.log debug;").start()
    session, r = login(n)
    assert r.status_code == 302
    assert n.get("/api/spotify/v1/me", session=session).status_code == 200
    assert n.get("/api/spotify/v1/me").status_code == 401
    expiring = logged_in_with_expiring_token(n, mock, user="bob")
    assert n.get("/api/spotify/v1/me", session=expiring).status_code == 200
    mock.post("/_mock/expire", {"user": "alice"})  # the upstream refuses alice's token: replay
    assert n.get("/api/spotify/v1/me", session=session).status_code == 200

    lines = module_lines(n)
    text = "\n".join(lines)
    for expected in ["spotauth: callback state used up, exchanging the code",
                     "spotauth: session cookie: valid",
                     "spotauth: session cookie: none",
                     "spotauth: access decision: proxy",
                     "spotauth: access decision: deny not_authenticated",
                     "spotauth: access decision: refresh",
                     "spotauth: access decision: force_refresh",
                     "spotauth: refresh: waiting",
                     "spotauth: refresh done, resuming (ok)"]:
        assert expected in text, f"{expected!r} not in the module's debug lines:\n{text}"

    secrets = [mock.client_secret, session.cookies["spotauth"], expiring.cookies["spotauth"]]
    for user in ("alice", "bob"):
        tokens = mock.get("/_mock/tokens", user=user, all="1")
        secrets += tokens["access_tokens"] + tokens["refresh_tokens"]
    for line in lines:
        leaked = [s[:8] + "..." for s in secrets if s and s in line]
        assert not leaked, f"{line} holds {leaked}"
        assert re.search(r"\[(debug|info|warn|error|notice)\]", line), line
