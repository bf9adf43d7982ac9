"""The module's pages for people: every HTML answer from one template (the
built-in one, or spotauth_error_template's, per location), its login link
coming back to the page, `nginx -t` refusing a bad template, the
spotauth_notice of a logout, the page of a session that ended, and no
stock nginx page for a module decision (405)."""
import html
import re
import time

import requests

from conftest import consent, login, query_params, start_login
from session_cookie import open_claims, seal
from support.config_check import check_fails

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
NAVIGATE = {**HTML, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"}

# Every placeholder, a literal & that must stay as written, and a marker.
TEMPLATE = """<!doctype html><title>{{title}}</title>
<p id="marker">custom page &amp; more</p>
<p>{{ status }}|{{code}}|{{description}}</p>
<a id="login" href="{{login_url}}">in</a><a id="home" href="{{home_url}}">home</a>
"""

LOCATION_TEMPLATE = "<p>location page {{code}}</p>\n"

PAGES = """
        location = /members.html {
            spotauth redirect;
            spotauth_allow_users members.users;
            root html;
        }
        location = /special.html {
            spotauth redirect;
            spotauth_allow_users members.users;
            spotauth_error_template special.html;
            root html;
        }
"""


def templated_nginx(make_nginx, template=TEMPLATE, http_template=True):
    n = make_nginx(server_extra=PAGES,
                   http_extra="    spotauth_error_template error.html;" if http_template else "")
    n.write_conf_file("error.html", template, mode=0o644)
    n.write_conf_file("special.html", LOCATION_TEMPLATE, mode=0o644)
    n.write_conf_file("members.users", "carol\n", mode=0o644)
    return n


def declined_callback(n, mock, session, return_to="/dashboard.html"):
    return consent(mock, start_login(n, session, return_to), decision="cancel")


def session_cookie(session):
    return session.cookies.get("spotauth")


def cleared(r):
    return any(c.startswith("spotauth=;") and "Max-Age=0" in c for c in r.raw.headers.getlist("Set-Cookie"))


def test_custom_template_fills_every_placeholder(make_nginx, mock):
    n = templated_nginx(make_nginx).start()
    session = requests.Session()
    r = session.get(declined_callback(n, mock, session, "/dashboard.html?tab=top"), headers=HTML,
                    allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.text == ("<!doctype html><title>Not connected</title>\n"
                      '<p id="marker">custom page &amp; more</p>\n'
                      "<p>403|access_denied|You declined to connect your Spotify account.</p>\n"
                      '<a id="login" href="/auth/login?return_to=%2Fdashboard.html%3Ftab%3Dtop">in</a>'
                      '<a id="home" href="/">home</a>\n')
    # JSON callers are not affected.
    r = session.get(declined_callback(n, mock, session), allow_redirects=False, timeout=10)
    assert r.json()["error"] == "access_denied"


def test_every_module_page_comes_from_the_template(make_nginx, mock):
    n = templated_nginx(make_nginx).start()
    alice, _ = login(n, "alice")
    pages = {
        "forbidden": n.get("/members.html?x=1", session=alice, headers=HTML),
        "cross_site": requests.post(n.base + "/auth/logout?return_to=/here", timeout=10,
                                    headers={**HTML, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}),
        "method": n.get("/auth/logout", headers=HTML),
    }
    browser = requests.Session()
    pages["declined"] = browser.get(declined_callback(n, mock, browser), headers=HTML, allow_redirects=False,
                                    timeout=10)
    for what, r in pages.items():
        assert r.headers["Content-Type"] == "text/html; charset=utf-8", what
        assert "custom page &amp; more" in r.text, what
    assert "403|forbidden|" in pages["forbidden"].text
    assert 'href="/auth/login?switch=1&amp;return_to=%2Fmembers.html%3Fx%3D1"' in pages["forbidden"].text
    assert "403|cross_site_request|" in pages["cross_site"].text
    assert 'href="/auth/login?return_to=%2Fhere"' in pages["cross_site"].text
    assert "405|method_not_allowed|" in pages["method"].text
    # A location's own template wins over the http block's.
    r = n.get("/special.html", session=alice, headers=HTML)
    assert r.status_code == 403 and r.text == "<p>location page forbidden</p>\n"


def test_no_access_page_offers_another_account(make_nginx, mock):
    """Signed in as somebody the page refuses, the user follows the 403
    page's "Sign in with another account": the provider is asked to show its
    dialog (show_dialog=true), and the other account gets in. A normal login
    does not ask."""
    n = templated_nginx(make_nginx, http_template=False)
    (n.prefix / "html" / "members.html").write_text("members\n")
    n.start()
    alice, _ = login(n, "alice")
    r = n.get("/members.html?x=1", session=alice, headers=HTML)
    assert r.status_code == 403 and "<title>No access</title>" in r.text
    link = re.search(r'id="login" href="([^"]*)">([^<]*)</a>', r.text)
    assert link.group(2) == "Sign in with another account"
    switch_url = html.unescape(link.group(1))
    assert switch_url == "/auth/login?switch=1&return_to=%2Fmembers.html%3Fx%3D1"
    r = n.get(switch_url, session=alice)
    assert r.status_code == 302
    params = query_params(r.headers["Location"])
    assert params["show_dialog"] == "true"
    callback = consent(mock, params, user="carol")
    r = alice.get(callback, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].endswith("/members.html?x=1")
    assert n.get("/members.html?x=1", session=alice, headers=HTML).status_code == 200
    assert "show_dialog" not in start_login(n, requests.Session())


def test_builtin_page_is_the_default(server, mock):
    session = requests.Session()
    r = session.get(declined_callback(server, mock, session), headers=HTML, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert r.text.startswith("<!doctype html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in r.text
    assert "<title>Not connected</title>" in r.text
    assert 'href="/auth/login?return_to=%2Fdashboard.html"' in r.text and 'href="/"' in r.text
    assert "access_denied" in r.text


def test_wrong_method_is_answered_by_the_module(server):
    r = server.get("/auth/logout")
    assert r.status_code == 405
    assert r.headers["Allow"] == "POST"
    assert r.json()["error"] == "method_not_allowed"
    r = requests.post(server.base + "/auth/session", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    r = requests.delete(server.base + "/auth/login", headers=HTML, timeout=10)
    assert r.status_code == 405 and "nginx" not in r.text and "method_not_allowed" in r.text


def test_wrong_method_on_status_and_health_is_json(make_nginx):
    n = make_nginx(server_extra="        location = /metrics { spotauth_status; }\n"
                                "        location = /health { spotauth_health; }").start()
    for path in ("/metrics", "/health"):
        r = requests.post(n.base + path, headers=HTML, timeout=10)
        assert r.status_code == 405, path
        assert r.headers["Allow"] == "GET, HEAD"
        assert r.json()["error"] == "method_not_allowed"


def test_nginx_t_refuses_a_bad_template(make_nginx):
    n = templated_nginx(make_nginx, template="<p>{{title}}</p>\n<p>{{user_name}}</p>\n")
    page = n.prefix / "conf" / "error.html"  # messages name the file as resolved
    check_fails(n, f'spotauth_error_template "{page}" has an unknown placeholder "{{{{user_name}}}}" on line 2',
                "{{login_url}}", "nginx.conf:")
    n.write_conf_file("error.html", "<p>{{title</p>", mode=0o644)
    check_fails(n, f'spotauth_error_template "{page}" has a "{{{{" without "}}}}" on line 1')
    n.write_conf_file("error.html", "x" * (64 * 1024 + 1), mode=0o644)
    check_fails(n, f'spotauth_error_template "{page}" is 65537 bytes, more than the 65536 allowed')
    (n.prefix / "conf" / "error.html").unlink()
    check_fails(n, f'spotauth_error_template "{page}" cannot be read')


def test_logout_form_brings_the_notice_back_to_the_site(server):
    session, _ = login(server)
    r = session.post(server.base + "/auth/logout?return_to=/dashboard.html%23top", headers=NAVIGATE,
                     allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == f"{server.base}/dashboard.html?spotauth_notice=logged_out#top"
    assert cleared(r)
    # fetch() callers still get 204 and no redirect.
    session, _ = login(server)
    r = session.post(server.base + "/auth/logout", headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False)
    assert r.status_code == 204 and "Location" not in r.headers


def test_signing_in_again_forgets_the_notice(server):
    """Logged out to /dashboard.html?spotauth_notice=logged_out, the user
    signs in from there: the callback brings them back without the stale
    notice (however its name is encoded)."""
    for stale in ("spotauth_notice=logged_out", "spotauth%5Fnotice=session_revoked"):
        _, r = login(server, return_to=f"/dashboard.html?tab=2&{stale}")
        assert r.status_code == 302, r.text
        assert r.headers["Location"].endswith("/dashboard.html?tab=2"), r.headers["Location"]


def test_a_page_says_that_its_session_was_signed_out(server):
    session, _ = login(server)
    copy = session_cookie(session)
    session.post(server.base + "/auth/logout", headers=NAVIGATE, allow_redirects=False)
    r = server.get("/dashboard.html?tab=top", cookies={"spotauth": copy}, headers=HTML)
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>You were signed out</title>" in r.text and "session_revoked" in r.text
    assert 'href="/auth/login?return_to=%2Fdashboard.html%3Ftab%3Dtop"' in r.text
    assert cleared(r)
    # Without the cookie the page goes through the login as before.
    assert server.get("/dashboard.html").status_code == 302


def test_a_page_says_that_its_session_expired(server):
    session, _ = login(server)
    claims = open_claims(server.cookie_key, session_cookie(session))
    claims["exp"] = int(time.time()) - 10
    r = server.get("/dashboard.html", cookies={"spotauth": seal(server.cookie_key, claims)}, headers=HTML)
    assert r.status_code == 401
    assert "<title>Your session has ended</title>" in r.text and "session_expired" in r.text
    assert cleared(r)
