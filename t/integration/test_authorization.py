"""Authorization: spotauth_allow_users (a file of user ids, re-read on
reload) and spotauth_require_product (the subscription /v1/me reported at
login), on API locations, pages, /auth/token and the callback; the
$spotauth_user_product and $spotauth_user_country variables; docs/directives.md's
identity-header and JSON access-log recipes."""
import json
import time

import requests

from conftest import consent, login, start_login
from session_cookie import expiring, seal, session_claims
from support.config_check import check_fails
from support.metrics import metric
from support.sessions import session_cookie_set

PRIVATE_SCOPES = '        spotauth_scopes "user-read-email user-read-private";\n'

# Rules per location: anyone may sign in, and only some go further.
RULED_LOCATIONS = PRIVATE_SCOPES + """
        location /team/api/ {
            spotauth on;
            spotauth_allow_users team.users;
            proxy_pass http://MOCK/;
        }
        location = /team.html {
            spotauth redirect;
            spotauth_allow_users team.users;
            root html;
        }
        location = /auth/token-team {
            spotauth_token;
            spotauth_allow_users team.users;
        }
        location /premium/api/ {
            spotauth on;
            spotauth_require_product premium;
            proxy_pass http://MOCK/;
        }
        location = /premium.html {
            spotauth redirect;
            spotauth_require_product premium;
            root html;
        }
        location = /whoami {
            add_header X-Product $spotauth_user_product;
            return 200 "$spotauth_user|$spotauth_user_product|$spotauth_user_country\\n";
        }
"""

# Rules for the whole server, the callback included.
SERVER_RULES = PRIVATE_SCOPES + """
        spotauth_allow_users team.users;
        spotauth_require_product premium;
        location = /metrics { spotauth_status; }
"""


def ruled_nginx(make_nginx, mock, team="alice\ncarol\n", server_extra=RULED_LOCATIONS, **options):
    n = make_nginx(server_extra=server_extra.replace("MOCK", mock.hostport), **options)
    n.write_conf_file("team.users", f"# who may use /team\n{team}")
    for page in ("team.html", "premium.html"):
        (n.prefix / "html" / page).write_text(f"{page}\n")
    return n.start()


def wait_for(condition, timeout=5):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def signed_in(n, user):
    session, r = login(n, user=user)
    assert r.status_code == 302, r.text
    return session


def assert_forbidden_json(r):
    assert r.status_code == 403, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["error"] == "forbidden"
    assert body["login_url"] == "/auth/login"
    assert "WWW-Authenticate" not in r.headers
    assert not session_cookie_set(r)  # a refused user keeps their session for other locations


# --- the allowlist -------------------------------------------------------------

def test_allowed_refused_and_anonymous_on_api_locations(make_nginx, mock):
    n = ruled_nginx(make_nginx, mock)
    alice, bob = signed_in(n, "alice"), signed_in(n, "bob")
    assert n.get("/team/api/v1/me", session=alice).json()["id"] == "alice"
    calls = mock.stats()["api_calls"]
    assert_forbidden_json(n.get("/team/api/v1/me", session=bob))
    assert mock.stats()["api_calls"] == calls  # refused before the upstream
    # bob is still signed in: locations without the rule serve him.
    assert n.get("/api/spotify/v1/me", session=bob).json()["id"] == "bob"
    anonymous = n.get("/team/api/v1/me")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_authenticated"
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="spotauth"'
    assert 'spotauth: user "bob" refused here: not in spotauth_allow_users' in n.error_log()


def test_a_refused_user_gets_no_refresh(make_nginx, mock):
    n = ruled_nginx(make_nginx, mock)
    session = signed_in(n, "bob")
    (cookie,) = [c for c in session.cookies if c.name == "spotauth"]
    cookie.value = expiring(n.cookie_key, cookie.value)
    assert_forbidden_json(n.get("/team/api/v1/me", session=session))
    assert mock.stats()["token_calls"]["refresh_token"] == 0


def test_allowed_refused_and_anonymous_on_pages(make_nginx, mock):
    n = ruled_nginx(make_nginx, mock)
    alice, bob = signed_in(n, "alice"), signed_in(n, "bob")
    assert n.get("/team.html", session=alice).text == "team.html\n"
    for accept in ("text/html", "*/*"):  # a page answers a page, whatever was asked
        r = n.get("/team.html", session=bob, headers={"Accept": accept})
        assert r.status_code == 403
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<title>No access</title>" in r.text
        # Signing in with another account (switch=1: the provider asks
        # which) comes back to this page.
        assert 'href="/auth/login?switch=1&amp;return_to=%2Fteam.html">Sign in with another account<' in r.text
        assert not session_cookie_set(r)
    anonymous = n.get("/team.html")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].endswith("/auth/login?return_to=%2Fteam.html")


def test_token_endpoint_follows_its_location_rules(make_nginx, mock):
    n = ruled_nginx(make_nginx, mock)
    assert n.get("/auth/token-team", session=signed_in(n, "alice")).json()["access_token"]
    r = n.get("/auth/token-team", session=signed_in(n, "bob"))
    assert r.status_code == 403
    assert r.json() == {"access_token": None, "error": "forbidden"}
    assert n.get("/auth/token-team").status_code == 401


def test_refused_user_at_the_callback_gets_no_session(make_nginx, mock):
    n = ruled_nginx(make_nginx, mock, server_extra=SERVER_RULES)
    session, ok = login(n, user="alice")
    assert ok.status_code == 302 and session.cookies.get("spotauth")
    for accept, content_type in (("text/html,application/xhtml+xml", "text/html; charset=utf-8"),
                                 ("application/json", "application/json")):
        browser = requests.Session()
        callback = consent(mock, start_login(n, browser), user="bob")
        r = browser.get(callback, headers={"Accept": accept}, allow_redirects=False, timeout=10)
        assert r.status_code == 403, r.text
        assert r.headers["Content-Type"] == content_type
        assert ("forbidden" if content_type == "application/json" else "No access") in r.text
        assert not session_cookie_set(r)
        assert "spotauth" not in browser.cookies  # and the login cookie was cleared
        assert n.get("/api/spotify/v1/me", session=browser).status_code == 401
    text = n.get("/metrics").text
    assert metric(text, 'spotauth_logins_total{result="ok"}') == 1
    assert metric(text, 'spotauth_logins_total{result="failed"}') == 2
    assert 'spotauth: login refused for user "bob": not in spotauth_allow_users' in n.error_log()


def test_reload_reads_a_changed_allow_file(make_nginx, mock):
    n = ruled_nginx(make_nginx, mock, team="alice\n")
    alice, bob = signed_in(n, "alice"), signed_in(n, "bob")
    assert n.get("/team/api/v1/me", session=bob).status_code == 403
    n.write_conf_file("team.users", "bob   # joined today\n")
    n.reload()
    assert n.get("/team/api/v1/me", session=bob).status_code == 200
    assert n.get("/team/api/v1/me", session=alice).status_code == 403  # the same cookie, refused now


def test_allow_file_mistakes_fail_nginx_t(make_nginx, mock):
    n = make_nginx(server_extra=PRIVATE_SCOPES + "        spotauth_allow_users team.users;\n")
    n.write_conf_file("team.users", "alice\nbob carol\n")
    users = n.prefix / "conf" / "team.users"  # messages name the file as resolved
    check_fails(n, f'spotauth_allow_users "{users}" line 2: one user id per line')
    n.write_conf_file("team.users", "alice\nev\x01il\n")
    check_fails(n, "line 2: not a user id")
    (n.prefix / "conf" / "team.users").unlink()
    check_fails(n, f'spotauth_allow_users "{users}" cannot be read')
    n.write_conf_file("team.users", "# nobody yet\n")
    result = n.check()
    assert result.returncode == 0, result.stderr
    assert "lists nobody: every signed-in user is refused" in result.stderr


def test_require_product_needs_the_private_scope(make_nginx):
    n = make_nginx(server_extra="        location /p/ { spotauth on; spotauth_require_product premium; }\n")
    check_fails(n, '"spotauth_require_product" needs the scope "user-read-private"')
    n.write_config(server_extra=PRIVATE_SCOPES + "        spotauth_require_product premium open;\n")
    assert n.check().returncode == 0
    n.write_config(server_extra=PRIVATE_SCOPES + "        spotauth_require_product premium off;\n")
    check_fails(n, "takes Spotify products")


# --- the product -----------------------------------------------------------------

def test_premium_rule_on_api_locations_and_pages(make_nginx, mock):
    mock.configure(user_products={"bob": "free"})
    n = ruled_nginx(make_nginx, mock)
    alice, bob = signed_in(n, "alice"), signed_in(n, "bob")
    assert n.get("/premium/api/v1/me", session=alice).json()["product"] == "premium"
    assert n.get("/premium.html", session=alice).status_code == 200
    assert_forbidden_json(n.get("/premium/api/v1/me", session=bob))
    assert n.get("/premium.html", session=bob).status_code == 403
    assert n.get("/premium/api/v1/me").status_code == 401
    assert n.get("/premium.html").status_code == 302
    assert 'user "bob" refused here: product not in spotauth_require_product' in n.error_log()


def test_premium_rule_at_the_callback(make_nginx, mock):
    mock.configure(user_products={"carol": "free"})
    n = ruled_nginx(make_nginx, mock, server_extra=SERVER_RULES)
    assert login(n, user="alice")[1].status_code == 302
    session, r = login(n, user="carol")  # in team.users, but not premium
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert not session_cookie_set(r)


def test_a_session_from_before_products_signs_in_again(make_nginx, mock):
    """Cookies sealed before the product was kept still work; where a
    product is required they count as no session (the cookie is kept),
    and the new login records the product."""
    n = ruled_nginx(make_nginx, mock)
    old = {"spotauth": seal(n.cookie_key, session_claims("alice", int(time.time())))}
    assert n.get("/team.html", cookies=old).status_code == 200
    assert n.get("/whoami", cookies=old).text == "alice||\n"
    page = n.get("/premium.html", cookies=old)
    assert page.status_code == 302
    assert page.headers["Location"].endswith("/auth/login?return_to=%2Fpremium.html")
    assert not session_cookie_set(page)
    api = n.get("/premium/api/v1/me", cookies=old)
    assert api.status_code == 401 and api.json()["error"] == "not_authenticated"
    assert not session_cookie_set(api)
    session, r = login(n, user="alice", return_to="/premium.html")
    assert r.headers["Location"].endswith("/premium.html")
    assert n.get("/premium.html", session=session).status_code == 200


# --- variables and recipes ---------------------------------------------------------

def test_product_and_country_variables(make_nginx, mock):
    mock.configure(user_products={"carol": "free", "bob": "free\r\nX-Injected: yes"},
                   user_countries={"carol": "DE"})
    n = ruled_nginx(make_nginx, mock)
    assert n.get("/whoami").text == "||\n"
    assert n.get("/whoami", session=signed_in(n, "alice")).text == "alice|premium|SE\n"
    assert n.get("/whoami", session=signed_in(n, "carol")).text == "carol|free|DE\n"
    r = n.get("/whoami", session=signed_in(n, "bob"))
    assert r.headers["X-Product"] == "freeX-Injected: yes"
    assert "X-Injected" not in r.headers


def test_without_the_private_scope_product_and_country_are_empty(make_nginx, mock):
    n = make_nginx(server_extra="""
        location = /whoami { return 200 "$spotauth_user|$spotauth_user_product|$spotauth_user_country\\n"; }
""").start()
    assert n.get("/whoami", session=signed_in(n, "alice")).text == "alice||\n"


IDENTITY_RECIPE = """
        location /app/ {
            spotauth redirect;
            proxy_set_header X-Forwarded-User $spotauth_user;
            proxy_set_header X-Forwarded-User-Name $spotauth_user_name;
            proxy_pass http://127.0.0.1:$server_port/backend-saw;
        }
        location = /backend-saw {
            return 200 "user=[$http_x_forwarded_user] name=[$http_x_forwarded_user_name] injected=[$http_x_injected] cookie=[$http_cookie]\\n";
        }
        access_log logs/access.json spotauth_json;
"""
JSON_LOG = ("    log_format spotauth_json escape=json '{\"request\":\"$request\",\"status\":$status,"
            "\"user\":\"$spotauth_user\",\"name\":\"$spotauth_user_name\","
            "\"session\":\"$spotauth_session_status\"}';")


def test_identity_header_and_json_log_recipes(make_nginx, mock):
    mock.configure(profile_display_name='Mal "the" \\ one\r\nX-Injected: yes')
    n = make_nginx(server_extra=IDENTITY_RECIPE, http_extra=JSON_LOG).start()
    session = signed_in(n, "alice")
    session.cookies.set("other", "1")
    forged = {"X-Forwarded-User": "root"}
    seen = n.get("/app/", session=session, headers=forged).text
    assert seen.startswith('user=[alice] name=[Mal "the" \\ oneX-Injected: yes] injected=[]'), seen
    assert "other=1" in seen and "spotauth=" not in seen  # the session cookie never reaches the backend
    assert n.get("/app/", headers=forged).status_code == 302  # no session, no backend
    log = n.prefix / "logs" / "access.json"

    def alice_entries():  # the access log is written after the answer
        lines = log.read_text().splitlines() if log.exists() else []
        return [e for e in map(json.loads, lines) if e["user"] == "alice" and e["request"].startswith("GET /app/")]

    wait_for(alice_entries)
    entry = alice_entries()[0]
    assert entry["name"] == 'Mal "the" \\ oneX-Injected: yes'
    assert entry["session"] == "valid"
    assert entry["status"] == 200
