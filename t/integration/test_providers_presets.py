"""spotauth_provider and spotauth_client_auth against mock providers shaped
like Kakao, Naver, Google and GitHub (t/mock_providers.py): client
credentials in the body only, string expires_in, errors answered with
status 200, numeric and nested ids, Hangul names as raw UTF-8 and as \\u
escapes. The preset's URLs are pointed at the mock by explicit directives,
which win over the preset one by one; everything else comes from the preset.
test_providers.py covers the profile directives alone."""
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import CLIENT_ID, ROOT, Nginx, nginx_config, start_login
from mock_control import MockSpotify
from mock_providers import NICKNAMES, numeric_id
from session_cookie import expiring, open_claims
from support.mock_spotify.api import google_subject

# The shared config's Spotify endpoints and scopes (http level): left out
# so that the preset's apply.
SPOTIFY_LINES = re.compile(r'^    spotauth_(authorize_url \S+/authorize|token_url \S+/api/token|api_url http://[^/;]+'
                           r'|scopes "user-read-email user-top-read");\n', re.M)

ENDPOINTS = {
    "kakao": ("/oauth/authorize", "/oauth/token", "/v2/user/me"),
    "naver": ("/oauth2.0/authorize", "/oauth2.0/token", "/v1/nid/me"),
    "google": ("/o/oauth2/v2/auth", "/token", "/v1/userinfo"),
    "github": ("/login/oauth/authorize", "/login/oauth/access_token", "/user"),
}

WHOAMI = """
        location = /whoami {
            spotauth on;
            add_header X-User $spotauth_user;
            add_header X-User-Name $spotauth_user_name;
            return 200 "ok\\n";
        }"""


class PresetNginx(Nginx):
    """nginx with the test config minus its Spotify endpoints and scopes."""

    def write_config(self, **changes):
        self.options = {**self.options, **changes}
        text = SPOTIFY_LINES.sub("", nginx_config(self.port, self.mock, **self.options))
        self.write_conf_file("nginx.conf", text)


@pytest.fixture(scope="module")
def providers(workdir):
    m = MockSpotify(workdir, CLIENT_ID, script=ROOT / "t" / "mock_providers.py")
    yield m
    m.stop()


@pytest.fixture(autouse=True)
def fresh_providers(providers):
    """Resets the mock; afterwards checks, as conftest's fresh_mock does for
    the Spotify mock, that no answer of nginx carried a refresh token or the
    client secret (nor an access token outside the API echo), and that only
    token endpoints were sent either."""
    providers.reset()
    answers = []
    send = requests.Session.send  # conftest's recording one

    def recording_send(self, request, **kw):
        response = send(self, request, **kw)
        if not request.url.startswith(providers.url):
            answers.append(response)
        return response

    requests.Session.send = recording_send
    try:
        yield
    finally:
        requests.Session.send = send
    tokens = providers.get("/_mock/tokens", all="1")
    never = tokens["refresh_tokens"] + [providers.client_secret]
    for r in answers:
        seen = "\n".join(f"{k}: {v}" for k, v in r.headers.items()) + "\n" + r.content.decode(errors="replace")
        assert not leaked(seen, never), f"{r.url} leaked {leaked(seen, never)}"
        if not urlsplit(r.url).path.startswith("/api/spotify/v1/echo"):
            assert not leaked(seen, tokens["access_tokens"]), f"{r.url} leaked an access token"
    token_paths = {token for _, token, _ in ENDPOINTS.values()}
    for q in providers.recorded():
        if q["path"] not in token_paths:
            assert not leaked(json.dumps(q), never), f"{q['path']} got {leaked(json.dumps(q), never)}"


def leaked(text, secrets):
    return [s[:12] + "..." for s in secrets if s and s in text]


@pytest.fixture
def make_preset(providers):
    started = []

    def make(provider, *, urls_at="server", extra="", http_extra="", **options):
        """An nginx with `spotauth_provider <provider>` (none when None) and
        the provider's three endpoints on the mock, set at `urls_at`."""
        authorize, token, profile = ENDPOINTS[provider or "kakao"]
        base = f"http://{providers.hostport}"
        urls = (f"spotauth_authorize_url {base}{authorize};\n    spotauth_token_url {base}{token};\n"
                f"    spotauth_profile_url {base}{profile};\n")
        chosen = f"spotauth_provider {provider};\n" if provider else ""
        server_lines = urls if urls_at == "server" else ""
        http_lines = (urls if urls_at == "http" else "") + chosen + http_extra
        n = PresetNginx(providers, http_extra="    " + http_lines,
                        server_extra="        " + server_lines + extra + WHOAMI, **options)
        started.append(n)
        return n

    yield make
    for n in started:
        n.stop()


def sign_in(n, providers, user, accept="application/json"):
    """The browser's flow with the provider mock's consent; (session,
    callback answer, authorize parameters)."""
    session = requests.Session()
    params = start_login(n, session)
    r = requests.get(providers.url + "/authorize/decide", params={**params, "user": user},
                     allow_redirects=False, timeout=5)
    assert r.status_code == 302, r.text
    callback = session.get(r.headers["Location"], allow_redirects=False, timeout=10, headers={"Accept": accept})
    return session, callback, params


def who(n, session):
    answer = n.get("/auth/session", session=session)
    assert answer.status_code == 200
    return answer.json()


def token_calls(providers, since=0):
    paths = {token for _, token, _ in ENDPOINTS.values()}
    return [q for q in providers.recorded(since) if q["path"] in paths]


def form_of(call):
    return {k: v[0] for k, v in parse_qs(call["body"]).items()}


def assert_credentials_in_body_only(providers, call):
    assert "authorization" not in call["headers"]
    form = form_of(call)
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, providers.client_secret)


def claims(n, session):
    return open_claims(n.cookie_key, session.cookies["spotauth"])


def expire(n, session):
    """The session's access token now expires within the refresh leeway."""
    (cookie,) = [c for c in session.cookies if c.name == "spotauth"]
    cookie.value = expiring(n.cookie_key, cookie.value)


def refresh_calls(providers):
    return providers.stats()["token_calls"]["refresh_token"]


# --- Kakao -----------------------------------------------------------------------


@pytest.mark.parametrize("ascii_json", [False, True], ids=["raw-utf8", "u-escapes"])
def test_kakao_in_one_line(make_preset, providers, ascii_json):
    # make_preset: the provider at http level, the mock's URLs in the
    # server; claims, scopes and client authentication are Kakao's.
    providers.post("/_mock/shape", {"ascii_json": ascii_json})
    n = make_preset("kakao").start()
    session, r, params = sign_in(n, providers, "minji")
    assert r.status_code == 302, r.text
    assert params["scope"] == "profile_nickname"
    assert params["code_challenge_method"] == "S256"
    me = who(n, session)
    assert me["user"] == {"id": str(numeric_id("minji")), "display_name": NICKNAMES["minji"]}
    (exchange,) = token_calls(providers)
    assert_credentials_in_body_only(providers, exchange)
    assert form_of(exchange)["grant_type"] == "authorization_code"


def test_kakao_refuses_basic_so_the_default_client_auth_fails(make_preset, providers):
    # The 502: explicit Kakao endpoints without spotauth_client_auth post.
    n = make_preset(None, extra="        spotauth_profile_claims id=id name=kakao_account.profile.nickname;\n"
                                "        spotauth_scopes profile_nickname;\n").start()
    _, r, _ = sign_in(n, providers, "minji")
    assert r.status_code == 502
    assert r.json()["error"] == "token_exchange_failed"
    assert r.json()["error_description"] == "Spotify did not accept the sign-in; try again."


def test_kakao_by_explicit_directives_and_client_auth_post(make_preset, providers):
    n = make_preset(None, extra="        spotauth_profile_claims id=id name=kakao_account.profile.nickname;\n"
                                "        spotauth_scopes profile_nickname;\n"
                                "        spotauth_client_auth post;\n").start()
    session, r, _ = sign_in(n, providers, "jiho")
    assert r.status_code == 302, r.text
    assert who(n, session)["user"] == {"id": str(numeric_id("jiho")), "display_name": NICKNAMES["jiho"]}


def test_kakao_two_refreshes_without_a_new_refresh_token(make_preset, providers):
    # spotauth_refresh_cache 0: the second refresh asks again rather than
    # reusing the first one's answer.
    n = make_preset("kakao", http_extra="    spotauth_refresh_cache 0;\n").start()
    session, r, _ = sign_in(n, providers, "minji")
    assert r.status_code == 302, r.text
    first = claims(n, session)
    for round_ in (1, 2):
        since = time.time()
        expire(n, session)
        answer = n.get("/api/spotify/v1/echo", session=session)
        assert answer.status_code == 200, answer.text
        assert refresh_calls(providers) == round_
        (call,) = token_calls(providers, since)
        assert_credentials_in_body_only(providers, call)
        assert form_of(call)["grant_type"] == "refresh_token"
        assert form_of(call)["refresh_token"] == first["refresh_token"]
        now = claims(n, session)
        assert now["refresh_token"] == first["refresh_token"]
        assert now["access_token"] != first["access_token"]
    assert who(n, session)["user"]["display_name"] == NICKNAMES["minji"]


def test_kakao_error_names_kakao(make_preset, providers):
    n = make_preset("kakao").start()
    providers.post("/_mock/shape", {"token_error": "invalid_grant"})
    _, r, _ = sign_in(n, providers, "minji")
    assert r.status_code == 502
    assert r.json()["error_description"] == "Kakao did not accept the sign-in; try again."
    providers.post("/_mock/shape", {"token_error": "invalid_grant"})
    _, page, _ = sign_in(n, providers, "minji", accept="text/html")
    assert page.status_code == 502
    assert "Kakao did not accept the sign-in" in page.text
    assert "Spotify" not in page.text


def test_explicit_urls_at_http_level_win_over_a_provider_in_the_server(make_preset, providers):
    n = make_preset(None, urls_at="http", extra="        spotauth_provider kakao;\n").start()
    session, r, _ = sign_in(n, providers, "minji")
    assert r.status_code == 302, r.text
    assert who(n, session)["user"]["display_name"] == NICKNAMES["minji"]


# --- Naver -------------------------------------------------------------------------


def test_naver_sign_in_with_a_string_expires_in_and_a_refresh(make_preset, providers):
    n = make_preset("naver").start()
    session, r, params = sign_in(n, providers, "jiho")
    assert r.status_code == 302, r.text
    assert "scope" not in params  # Naver's consent items are set in its console
    me = who(n, session)["user"]
    assert me == {"id": "naver-" + google_subject("jiho"), "display_name": NICKNAMES["jiho"]}
    first = claims(n, session)
    assert first["access_expires_at"] - first["access_issued_at"] == 3600  # from "3600"
    expire(n, session)
    since = time.time()
    answer = n.get("/api/spotify/v1/echo", session=session)
    assert answer.status_code == 200, answer.text
    assert refresh_calls(providers) == 1
    (call,) = token_calls(providers, since)
    assert_credentials_in_body_only(providers, call)
    assert claims(n, session)["refresh_token"] == first["refresh_token"]


def test_naver_error_with_status_200_is_refused_without_proxying(make_preset, providers):
    n = make_preset("naver").start()
    session, r, _ = sign_in(n, providers, "jiho")
    assert r.status_code == 302, r.text
    expire(n, session)
    providers.post("/_mock/shape", {"token_error": "invalid_request"})
    since = time.time()
    answer = n.get("/api/spotify/v1/echo", session=session)
    assert answer.status_code == 502
    assert answer.json()["error"] == "token_endpoint_misconfigured"
    assert [q["path"] for q in providers.recorded(since)] == ["/oauth2.0/token"]


def test_naver_sign_in_refused_with_status_200(make_preset, providers):
    n = make_preset("naver").start()
    providers.post("/_mock/shape", {"token_error": "invalid_request"})
    session, r, _ = sign_in(n, providers, "jiho")
    assert r.status_code == 502
    assert r.json()["error"] == "token_exchange_failed"
    assert r.json()["error_description"] == "Naver did not accept the sign-in; try again."
    assert not who(n, session)["authenticated"]


# --- Google and GitHub ---------------------------------------------------------


def test_google_signs_in_with_offline_access_and_gets_a_refresh_token(make_preset, providers):
    n = make_preset("google").start()
    session, r, params = sign_in(n, providers, "carol")
    assert r.status_code == 302, r.text
    assert (params["access_type"], params["prompt"], params["scope"]) == ("offline", "consent", "openid profile")
    assert who(n, session)["user"] == {"id": google_subject("carol"), "display_name": "Carol Kaye"}
    assert claims(n, session)["refresh_token"]  # only given for offline access with consent
    (exchange,) = token_calls(providers)
    assert_credentials_in_body_only(providers, exchange)


def test_github_signs_in_and_its_token_lasts_the_session(make_preset, providers):
    n = make_preset("github").start()
    session, r, params = sign_in(n, providers, "bob")
    assert r.status_code == 302, r.text
    assert params["scope"] == "read:user"
    assert who(n, session)["user"] == {"id": str(numeric_id("bob")), "display_name": "bob"}
    c = claims(n, session)
    assert c["access_token"].startswith("gho_")
    assert c["refresh_token"] == ""
    assert c["access_expires_at"] == c["exp"]  # no expires_in, nothing to refresh with
    (exchange,) = token_calls(providers)
    assert exchange["headers"]["accept"] == "application/json"
    assert_credentials_in_body_only(providers, exchange)
    echo = n.get("/api/spotify/v1/echo", session=session)
    assert echo.status_code == 200, echo.text
    assert echo.json()["headers"]["authorization"] == "Bearer " + c["access_token"]
    assert refresh_calls(providers) == 0


def test_github_token_refused_by_the_api_ends_the_session_without_a_token_call(make_preset, providers):
    # Nothing to refresh a non-expiring token with: the replay after the
    # API's 401 ends the session instead of asking the token endpoint.
    n = make_preset("github").start()
    session, r, _ = sign_in(n, providers, "bob")
    assert r.status_code == 302, r.text
    providers.configure(api_unauthorized=1)
    answer = n.get("/api/spotify/v1/echo", session=session)
    assert answer.status_code == 401
    assert answer.json()["error"] == "refresh_failed"
    assert answer.json()["error_description"] == "GitHub no longer accepts this session; sign in again."
    assert not who(n, session)["authenticated"]
    assert providers.stats()["token_calls"]["total"] == 1  # the sign-in's


def test_github_error_with_status_200_fails_the_sign_in(make_preset, providers):
    n = make_preset("github").start()
    providers.post("/_mock/shape", {"token_error": "bad_verification_code"})
    _, r, _ = sign_in(n, providers, "bob")
    assert r.status_code == 502
    assert r.json()["error_description"] == "GitHub did not accept the sign-in; try again."


# --- nginx -t ------------------------------------------------------------------------


@pytest.mark.parametrize("line,message", [
    ("spotauth_provider facebook;", 'unknown spotauth_provider "facebook"; the known ones are spotify, google, '
                                    "github, kakao, naver"),
    ("spotauth_client_auth header;", 'spotauth_client_auth "header" is neither "basic"'),
    ("spotauth_provider kakao;\n    spotauth_provider naver;", '"spotauth_provider" directive is duplicate'),
])
def test_bad_values_are_refused_by_nginx_t(make_preset, line, message):
    n = make_preset("kakao" if "client_auth" in line else None, http_extra=f"    {line}\n")
    result = n.check()
    assert result.returncode != 0
    assert message in result.stderr
