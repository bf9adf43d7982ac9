"""The demo site (conf/demo-site) in a real browser: Debian's chromium driven
by playwright-core (t/browser/e2e.mjs) through login, dashboard, an inline
token refresh, logout and a deep link, against nginx + the mock Spotify;
and screenshots of every page state, the module's own pages included, at
1280 and 390 px wide (t/browser/pages.mjs) into build/artifacts/; and the
official @spotify/web-api-ts-sdk through the proxy with the adapter of
docs/frontend.md (t/browser/sdk.mjs)."""
import re
import shutil
import subprocess

import pytest

from conftest import ROOT
from support.browser import BROWSER_DIR, browser_missing

SITE = ROOT / "conf" / "demo-site"
ARTIFACTS = ROOT / "build" / "artifacts"

# The default test config has the /auth/* locations, the protected
# /dashboard.html and /api/spotify/ with the replay; the demo site needs its
# static files served with the right types.
TYPES = """    types {
        text/html html;
        text/css css;
        text/javascript js;
        image/svg+xml svg;
    }"""
STATIC = "        location / { root html; }"


def test_demo_site_in_chromium(make_nginx, mock, tmp_path):
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    n = make_nginx(http_extra=TYPES, server_extra=STATIC)
    html = n.prefix / "html"
    shutil.copytree(SITE, html, dirs_exist_ok=True)
    html.chmod(0o755)
    n.start()

    screenshot = tmp_path / "dashboard.png"
    run = subprocess.run(["node", str(BROWSER_DIR / "e2e.mjs"), n.base, mock.url, str(screenshot)],
                         cwd=BROWSER_DIR, capture_output=True, text=True, timeout=120)
    output = run.stdout + run.stderr
    print(output)  # one line per check; shown with -s or on failure
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for shot in tmp_path.glob("*.png"):
        shutil.copy(shot, ARTIFACTS / shot.name)
    assert run.returncode == 0, f"browser test failed:\n{output}\nnginx error log:\n{n.error_log()}"
    assert screenshot.stat().st_size > 10_000, "the dashboard screenshot is suspiciously small"


# A page alice may not see (only carol is listed): the module's 403 page.
MEMBERS = """
        location = /members.html {
            spotauth redirect;
            spotauth_allow_users members.users;
            root html;
        }"""


def test_page_states_at_desktop_and_phone_width(make_nginx, mock, tmp_path):
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    n = make_nginx(http_extra=TYPES, server_extra=STATIC + MEMBERS)
    n.write_conf_file("members.users", "carol\n", mode=0o644)
    html = n.prefix / "html"
    shutil.copytree(SITE, html, dirs_exist_ok=True)
    html.chmod(0o755)
    n.start()

    run = subprocess.run(["node", str(BROWSER_DIR / "pages.mjs"), n.base, mock.url, str(tmp_path)],
                         cwd=BROWSER_DIR, capture_output=True, text=True, timeout=150)
    output = run.stdout + run.stderr
    print(output)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("pages-*.png"):
        stale.unlink()
    shots = sorted(tmp_path.glob("pages-*.png"))
    for shot in shots:
        shutil.copy(shot, ARTIFACTS / shot.name)
    assert run.returncode == 0, f"page screenshots failed:\n{output}\nnginx error log:\n{n.error_log()}"
    states = {"home-signed-out", "callback-declined", "dashboard", "forbidden", "notice-refresh_failed",
              "notice-logged_out", "session-revoked-page", "notice-session_expired", "notice-session_revoked"}
    expected = {f"pages-{width}-{state}.png" for width in (1280, 390) for state in states}
    assert {shot.name for shot in shots} == expected
    assert all(shot.stat().st_size > 5_000 for shot in shots)


SDK_DIST = BROWSER_DIR / "node_modules" / "@spotify" / "web-api-ts-sdk" / "dist" / "mjs"
# The page of t/browser/sdk.mjs: the SDK through an import map, the adapter
# of docs/frontend.md as the site would serve it.
SDK_PAGE = """<!doctype html>
<meta charset="utf-8"><title>SDK</title>
<script type="importmap">{"imports": {"@spotify/web-api-ts-sdk": "/sdk/index.js"}}</script>
<script type="module">
import * as adapter from '/spotauth-sdk.js';
window.spotauthSdk = adapter;
</script>
"""


def documented_sdk_adapter():
    """The adapter of docs/frontend.md, exactly as written there."""
    text = (ROOT / "docs" / "frontend.md").read_text()
    blocks = re.findall(r"^```js\n(// spotauth-sdk\.js:.*?)^```$", text, re.M | re.S)
    assert len(blocks) == 1, "docs/frontend.md has no (or several) spotauth-sdk.js blocks"
    return blocks[0]


def test_official_sdk_through_the_proxy(make_nginx, mock):
    """@spotify/web-api-ts-sdk with the documented adapter: spotauth's 401
    keeps login_url, signed-in calls reach the API with the session's token."""
    reason = browser_missing() or (None if SDK_DIST.is_dir() else "the SDK is missing (cd t/browser && npm ci)")
    if reason:
        pytest.skip(reason)
    n = make_nginx(http_extra=TYPES, server_extra=STATIC)
    html = n.prefix / "html"
    shutil.copytree(SDK_DIST, html / "sdk")
    (html / "spotauth-sdk.js").write_text(documented_sdk_adapter())
    (html / "sdk.html").write_text(SDK_PAGE)
    for path in [html, *html.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    n.start()

    run = subprocess.run(["node", str(BROWSER_DIR / "sdk.mjs"), n.base, mock.url],
                         cwd=BROWSER_DIR, capture_output=True, text=True, timeout=90)
    output = run.stdout + run.stderr
    print(output)
    assert run.returncode == 0, f"SDK test failed:\n{output}\nnginx error log:\n{n.error_log()}"
    assert "all 5 checks passed" in output, output
