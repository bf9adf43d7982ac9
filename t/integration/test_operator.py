"""Operator experience: variables, metrics, key rotation, config checks
and logs that never leak a secret."""
import re
import time

import requests

from conftest import login, new_key_text
from support.jose_interop import jose_decrypt
from support.metrics import metric
from support.sessions import logged_in_with_expiring_token

WHOAMI = """
        location = /whoami {
            return 200 "$spotauth_user|$spotauth_user_name|$spotauth_session_status|$spotauth_access_token\\n";
        }
        location = /metrics { spotauth_status; }
        access_log logs/spotauth.log spotauth;
"""
LOG_FORMAT = "    log_format spotauth '$request_uri user=$spotauth_user status=$spotauth_session_status';"


def operator_nginx(make_nginx, **options):
    return make_nginx(server_extra=WHOAMI, http_extra=LOG_FORMAT, **options).start()


def test_variables_in_return_and_log_format(make_nginx, mock):
    n = operator_nginx(make_nginx)
    assert n.get("/whoami").text == "||none|\n"
    session, _ = login(n, user="carol")
    token = mock.get("/_mock/tokens", user="carol")["access_tokens"][-1]
    assert n.get("/whoami", session=session).text == f"carol|Carol Kaye|valid|{token}\n"
    assert n.get("/whoami", cookies={"spotauth": "junk"}).text == "||invalid|\n"
    n.get("/api/spotify/v1/me", session=session)
    n.get("/api/spotify/v1/me")
    time.sleep(0.2)
    log = (n.prefix / "logs" / "spotauth.log").read_text()
    assert "/api/spotify/v1/me user=carol status=valid" in log
    assert "/api/spotify/v1/me user=- status=none" in log


def test_status_variable_after_refresh_and_failure(make_nginx, mock):
    n = operator_nginx(make_nginx)
    session = logged_in_with_expiring_token(n, mock)
    n.get("/api/spotify/v1/me", session=session)
    stale = logged_in_with_expiring_token(n, mock, user="bob")
    mock.post("/_mock/revoke", {"user": "bob"})
    n.get("/api/spotify/v1/me", session=stale)
    time.sleep(0.2)
    log = (n.prefix / "logs" / "spotauth.log").read_text()
    assert "user=alice status=refreshed" in log
    assert "user=bob status=refresh_failed" in log


def test_metrics_after_a_scripted_flow(make_nginx, mock):
    n = operator_nginx(make_nginx, workers=2)
    session = logged_in_with_expiring_token(n, mock)
    login(n, user="bob")
    cookie = session.cookies["spotauth"]
    results = [requests.get(n.base + "/api/spotify/v1/me", cookies={"spotauth": cookie}, timeout=10)
               for _ in range(3)]
    assert all(r.status_code == 200 for r in results)
    n.get("/api/spotify/v1/me")  # absent
    n.get("/api/spotify/v1/me", cookies={"spotauth": "junk"})  # invalid
    n.get("/auth/callback?state=x&code=y")  # failed login
    text = n.get("/metrics").text
    assert n.get("/metrics").headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert metric(text, 'spotauth_logins_total{result="ok"}') == 2
    assert metric(text, 'spotauth_logins_total{result="failed"}') == 1
    assert metric(text, 'spotauth_sessions_rejected_total{reason="absent"}') == 1
    assert metric(text, 'spotauth_sessions_rejected_total{reason="invalid"}') == 1
    assert metric(text, 'spotauth_refreshes_total{result="ok"}') == 1
    assert metric(text, "spotauth_refresh_cache_hits_total") == 2  # the 2 later requests
    assert metric(text, "spotauth_token_calls_in_flight") == 0
    assert metric(text, 'spotauth_token_endpoint_seconds_bucket{le="+Inf"}') == 3  # 2 codes + 1 refresh
    assert metric(text, "spotauth_token_endpoint_seconds_count") == 3


def test_key_rotation_end_to_end(make_nginx, mock):
    n = make_nginx().start()
    old_key = n.key_text
    session, _ = login(n)
    old_cookie = session.cookies["spotauth"]

    # Rotate: a new key first, the old one still accepted.
    n.write_conf_file("new.key", new_key_text())
    n.write_config(key_files=("new.key", "spotauth.key"))
    n.reload()
    r = n.get("/api/spotify/v1/me", cookies={"spotauth": old_cookie})
    assert r.status_code == 200
    resealed = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    new_kid = jose_decrypt(n.prefix / "conf" / "new.key", resealed)["header"]["kid"]
    old_kid = jose_decrypt(n.prefix / "conf" / "spotauth.key", old_cookie)["header"]["kid"]
    assert new_kid != old_kid
    # Sessions sealed with the new key get no further Set-Cookie.
    assert "Set-Cookie" not in n.get("/api/spotify/v1/me", cookies={"spotauth": resealed}).headers

    # Retire the old key: its sessions end cleanly.
    n.write_config(key_files=("new.key",))
    n.reload()
    r = n.get("/api/spotify/v1/me", cookies={"spotauth": old_cookie})
    assert r.status_code == 401
    assert r.json()["error"] == "not_authenticated"
    assert n.get("/api/spotify/v1/me", cookies={"spotauth": resealed}).status_code == 200
    assert old_key  # the fixture's key was the old one


def test_reload_picks_up_a_changed_secret(make_nginx, mock):
    n = make_nginx().start()
    n.write_conf_file("client-secret", "wrong-secret\n")
    n.reload()
    _, r = login(n)
    assert r.status_code == 502
    n.write_conf_file("client-secret", mock.client_secret + "\n")
    n.reload()
    _, r = login(n)
    assert r.status_code == 302


def test_protect_without_login_location_is_refused(make_nginx):
    n = make_nginx()
    conf = n.prefix / "conf" / "nginx.conf"
    conf.write_text(conf.read_text().replace("location = /auth/login    { spotauth_login; }", ""))
    result = n.check()
    assert result.returncode != 0
    assert "need a \"location = /auth/login { spotauth_login; }\" in the same server" in result.stderr


def test_zone_directive(make_nginx):
    assert make_nginx(http_extra="    spotauth_zone refresh:2m;").check().returncode == 0
    bad = make_nginx(http_extra="    spotauth_zone refresh;").check()
    assert bad.returncode != 0 and "must be name:size" in bad.stderr
    small = make_nginx(http_extra="    spotauth_zone refresh:8k;").check()
    assert small.returncode != 0 and "use at least 64k" in small.stderr


def test_every_module_log_line_is_prefixed_and_secret_free(make_nginx, mock):
    n = operator_nginx(make_nginx)
    session = logged_in_with_expiring_token(n, mock)
    n.get("/api/spotify/v1/me", session=session)
    n.get("/api/spotify/v1/me", cookies={"spotauth": "junk-cookie-value"})
    expiring = logged_in_with_expiring_token(n, mock, user="bob")
    cookies = [session.cookies["spotauth"], expiring.cookies["spotauth"]]
    mock.configure(token_fault="invalid_client", token_fault_count=1)
    n.get("/api/spotify/v1/me", session=expiring)
    mock.post("/_mock/revoke", {"user": "bob"})
    n.get("/api/spotify/v1/me", session=expiring)
    log = n.error_log()
    secrets = [mock.client_secret, *cookies]
    for user in ("alice", "bob"):
        tokens = mock.get("/_mock/tokens", user=user)
        secrets += tokens["access_tokens"] + tokens["refresh_tokens"]
    for secret in secrets:
        assert secret not in log
    ours = [line for line in log.splitlines() if "spotauth" in line and "[notice]" not in line]
    assert ours
    for line in ours:
        # "2026/.. [level] pid#tid: *conn spotauth: ..." (nginx's own prefix)
        assert re.match(r"^\S+ \S+ \[\w+\] \d+#\d+: (\*\d+ )?spotauth: ", line), line
