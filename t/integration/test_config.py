"""`nginx -t` catches configuration mistakes with a message that says what
to fix, and the module loads into Debian's stock nginx."""
import base64
import os
import time

import pytest

from conftest import MODULE, ROOT, free_port
from support.config_check import check_fails, check_passes


def place_of(nginx, text):
    """' in FILE:LINE' of the first line of nginx.conf holding `text`, as
    nginx ends its messages."""
    conf = nginx.prefix / "conf" / "nginx.conf"
    for number, line in enumerate(conf.read_text().splitlines(), start=1):
        if text in line:
            return f" in {conf}:{number}"
    raise AssertionError(f"{text!r} is not in nginx.conf")


def message_line(stderr, text):
    """The line of nginx's output that holds `text`."""
    lines = [line for line in stderr.splitlines() if text in line]
    assert lines, stderr
    return lines[0]


def test_valid_config_passes(make_nginx):
    stderr = check_passes(make_nginx())
    assert "syntax is ok" in stderr
    assert "[warn]" not in stderr  # the suite's own config is clean


def test_missing_client_id(make_nginx):
    check_fails(make_nginx(client_id=None), '"spotauth_client_id" is required')


def test_missing_key_file(make_nginx):
    check_fails(make_nginx(key_files=("no-such.key",)),
                'spotauth_key_file "', "no-such.key", "cannot be read")


def test_no_key_file_directive(make_nginx):
    check_fails(make_nginx(key_files=()), '"spotauth_key_file" is required',
                "openssl rand -base64 32")


def test_short_key(make_nginx):
    n = make_nginx(key_files=("short.key",))
    n.write_conf_file("short.key", base64.b64encode(b"x" * 16).decode())
    check_fails(n, "holds 16 bytes, 32 are required")


def test_key_that_is_not_base64(make_nginx):
    n = make_nginx(key_files=("text.key",))
    n.write_conf_file("text.key", "correct horse battery staple")
    check_fails(n, "is not base64 text")


def test_missing_secret_file(make_nginx):
    check_fails(make_nginx(secret_file="absent-secret"), "spotauth_client_secret_file", "cannot be read")


def test_a_fifo_or_a_huge_file_is_refused_without_reading_it(make_nginx):
    """A directive's file that is not a regular file (a FIFO would block the
    master forever) or is over 1 MiB is refused at once by nginx -t."""
    n = make_nginx(secret_file="secret-fifo")
    os.mkfifo(n.prefix / "conf" / "secret-fifo", 0o600)
    started = time.monotonic()
    check_fails(n, f'spotauth_client_secret_file "{n.prefix}/conf/secret-fifo" is not a regular file')
    assert time.monotonic() - started < 10
    n = make_nginx(key_files=("huge.key",))
    n.write_conf_file("huge.key", "A" * (1024 * 1024 + 1))
    check_fails(n, f'spotauth_key_file "{n.prefix}/conf/huge.key" is larger than 1 MiB')


def test_relative_paths_are_shown_resolved(make_nginx):
    """A relative file name is relative to nginx's configuration prefix: the
    message names the file nginx looked for, not the name as written."""
    n = make_nginx(secret_file="absent-secret", key_files=("spotauth.key",))
    stderr = check_fails(n, f'spotauth_client_secret_file "{n.prefix}/conf/absent-secret" cannot be read')
    assert '"absent-secret"' not in stderr


def test_empty_secret_file(make_nginx):
    n = make_nginx(secret_file="empty-secret")
    n.write_conf_file("empty-secret", "\n")
    check_fails(n, "is empty")


@pytest.mark.parametrize("url,problem", [
    ("/auth/callback", "is not a valid absolute URL"),
    ("ftp://example.org/cb", "must start with http:// or https://"),
])
def test_bad_redirect_uri(make_nginx, url, problem):
    n = make_nginx(redirect_uri=url)
    check_fails(n, "spotauth_redirect_uri", problem)


def test_bad_token_url(make_nginx):
    check_fails(make_nginx(token_url="accounts.example/api/token"), "spotauth_token_url", "is not a valid absolute URL")


def test_server_directive_in_location_is_refused(make_nginx):
    n = make_nginx(server_extra="        location /x { spotauth_client_id nope; }")
    check_fails(n, '"spotauth_client_id" directive is not allowed here')


@pytest.mark.parametrize("location", ["location ~ ^/login$", "location /auth/", "location /login",
                                      "location @login"])
def test_login_outside_an_exact_match_location_is_refused(make_nginx, location):
    n = make_nginx(server_extra=f"        {location} {{ spotauth_login; }}")
    stderr = check_fails(n, '"spotauth_login" directive must be in an exact-match location, for example '
                            '"location = /auth/login { spotauth_login; }"')
    assert message_line(stderr, "exact-match").endswith(place_of(n, location))


def test_secure_cookies_over_http_warn(make_nginx):
    result = make_nginx(secure=True).check()
    assert result.returncode == 0
    assert "browsers only keep Secure cookies from https sites" in result.stderr


def test_unused_module_needs_no_settings(make_nginx):
    # A server without spotauth locations does not need the OAuth settings.
    n = make_nginx(client_id=None, server_extra="")
    n.write_conf_file("nginx.conf", n.prefix.joinpath("conf/nginx.conf").read_text()
                      .replace("spotauth_login;", "return 204;")
                      .replace("spotauth_callback;", "return 204;")
                      .replace("spotauth_session;", "return 204;")
                      .replace("spotauth_token;", "return 204;")
                      .replace("spotauth_logout;", "return 204;")
                      .replace("spotauth redirect;", "spotauth off;")
                      .replace("spotauth retry;", "spotauth off;")
                      .replace("spotauth on;", "spotauth off;"))
    result = n.check()
    assert result.returncode == 0, result.stderr


SPOTIFY_AUTHORIZE = "        spotauth_authorize_url https://accounts.spotify.com/authorize;"


def test_placeholder_spotify_client_id_warns(make_nginx):
    n = make_nginx(client_id="CHANGE-ME-client-id", server_extra=SPOTIFY_AUTHORIZE)
    stderr = check_passes(n)
    warning = message_line(stderr, 'spotauth_client_id "CHANGE-ME-client-id" is not a Spotify client id')
    assert "[warn]" in warning and "32 hexadecimal characters" in warning
    assert warning.endswith(place_of(n, "spotauth_client_id"))


def test_spotify_shaped_client_id_does_not_warn(make_nginx):
    n = make_nginx(client_id="0123456789abcdef0123456789ABCDEF", server_extra=SPOTIFY_AUTHORIZE)
    assert "[warn]" not in check_passes(n)


def test_other_providers_client_ids_are_not_checked(make_nginx):
    # The suite's client id ("test-client") at the mock's authorize URL.
    assert "not a Spotify client id" not in check_passes(make_nginx())


def test_redirect_uri_no_callback_serves_warns(make_nginx):
    n = make_nginx(redirect_uri="http://127.0.0.1/oauth/cb")
    stderr = check_passes(n)
    warning = message_line(stderr, 'has the path "/oauth/cb", which no spotauth_callback location serves')
    assert '(they are at "/auth/callback")' in warning
    assert 'Add "location = /oauth/cb { spotauth_callback; }"' in warning
    assert warning.endswith(place_of(n, "spotauth_redirect_uri"))


def test_redirect_uri_served_by_another_servers_callback_passes(make_nginx):
    other = (f"    server {{ listen 127.0.0.1:{free_port()}; location = /oauth/cb {{ spotauth_callback; }} }}")
    n = make_nginx(redirect_uri="http://127.0.0.1/oauth/cb", http_extra=other)
    assert "no spotauth_callback location serves" not in check_passes(n)


def test_redirect_uri_with_a_regex_callback_is_not_checked(make_nginx):
    n = make_nginx(redirect_uri="http://127.0.0.1/oauth/cb",
                   server_extra="        location ~ ^/oauth/ { spotauth_callback; }")
    assert "no spotauth_callback location serves" not in check_passes(n)


@pytest.mark.parametrize("name,directive,mode", [
    ("spotauth.key", "spotauth_key_file", 0o644),
    ("client-secret", "spotauth_client_secret_file", 0o640),
])
def test_secret_files_others_can_read_warn(make_nginx, name, directive, mode):
    n = make_nginx()
    path = n.prefix / "conf" / name
    path.chmod(mode)
    warning = message_line(check_passes(n), "is accessible to group or others")
    assert f'{directive} "{path}" is accessible to group or others (mode 0{mode:o})' in warning
    assert f'"chmod 600 {path}"' in warning
    assert warning.endswith(place_of(n, directive))


def test_second_key_file_warning_points_at_its_line(make_nginx):
    n = make_nginx(key_files=("spotauth.key", "old.key"))
    n.write_conf_file("old.key", n.key_text, mode=0o604)
    warning = message_line(check_passes(n), "is accessible to group or others")
    assert f'spotauth_key_file "{n.prefix}/conf/old.key"' in warning and warning.endswith(place_of(n, "old.key"))


def test_short_key_error_points_at_its_line(make_nginx):
    n = make_nginx(key_files=("spotauth.key", "short.key"))
    n.write_conf_file("short.key", base64.b64encode(b"x" * 16).decode())
    stderr = check_fails(n, "holds 16 bytes")
    assert message_line(stderr, "holds 16 bytes").endswith(place_of(n, "short.key"))


def test_bad_url_error_points_at_its_directive(make_nginx):
    n = make_nginx(token_url="accounts.example/api/token")
    stderr = check_fails(n, "is not a valid absolute URL")
    assert message_line(stderr, "spotauth_token_url").endswith(place_of(n, "spotauth_token_url"))


def test_missing_directive_error_points_at_the_first_use(make_nginx):
    n = make_nginx(client_id=None)
    stderr = check_fails(n, '"spotauth_client_id" is required')
    assert message_line(stderr, "is required").endswith(place_of(n, "spotauth_login;"))


def test_protect_without_login_points_at_spotauth_on(make_nginx):
    n = make_nginx()
    conf = n.prefix / "conf" / "nginx.conf"
    conf.write_text(conf.read_text().replace("location = /auth/login    { spotauth_login; }", ""))
    stderr = check_fails(n, 'need a "location = /auth/login { spotauth_login; }"')
    assert message_line(stderr, "need a").endswith(place_of(n, "spotauth redirect;"))


def test_invalid_enum_value_lists_the_valid_ones(make_nginx):
    n = make_nginx(server_extra="        location = /x { spotauth yes; }")
    stderr = check_fails(n, 'invalid value "yes" in "spotauth" directive, it must be '
                            '"on", "off", "redirect" or "retry"')
    assert message_line(stderr, "invalid value").endswith(place_of(n, "spotauth yes;"))
    n = make_nginx(server_extra="        spotauth_cookie_secure yes;")
    check_fails(n, 'invalid value "yes" in "spotauth_cookie_secure" directive, it must be "on" or "off"')


def test_bad_profile_url(make_nginx):
    n = make_nginx(server_extra="        spotauth_profile_url /user;")
    stderr = check_fails(n, 'spotauth_profile_url "/user" is not a valid absolute URL')
    assert message_line(stderr, "spotauth_profile_url").endswith(place_of(n, "spotauth_profile_url"))


@pytest.mark.parametrize("args,problem", [
    ("email=mail", 'has an invalid parameter "email=mail": use id=<field> and name=<field>'),
    ("id=data..id", 'has an invalid field in "id=data..id"'),
    ("id=sub name=", 'has an invalid field in "name="'),
])
def test_bad_profile_claims(make_nginx, args, problem):
    n = make_nginx(server_extra=f"        spotauth_profile_claims {args};")
    stderr = check_fails(n, f'"spotauth_profile_claims" directive {problem}')
    assert message_line(stderr, "spotauth_profile_claims").endswith(place_of(n, "spotauth_profile_claims"))


def test_health_needs_the_settings(make_nginx):
    n = make_nginx(client_id=None)
    conf = n.prefix / "conf" / "nginx.conf"
    text = conf.read_text()
    for endpoint in ("login", "callback", "session", "token", "logout"):
        text = text.replace(f"spotauth_{endpoint};", "return 204;")
    for mode in ("redirect", "retry", "on"):
        text = text.replace(f"spotauth {mode};", "spotauth off;")
    conf.write_text(text.replace("location = /public", "location = /health { spotauth_health; }\n"
                                                       "        location = /public"))
    stderr = check_fails(n, '"spotauth_client_id" is required', "spotauth_health")
    assert message_line(stderr, "is required").endswith(place_of(n, "spotauth_health;"))


def test_redis_errors_point_at_their_directive(make_nginx):
    n = make_nginx(http_extra="    spotauth_redis http://127.0.0.1:6379;")
    stderr = check_fails(n, "must start with redis:// or unix:")
    assert message_line(stderr, "spotauth_redis").endswith(place_of(n, "spotauth_redis"))
    n = make_nginx(http_extra="    spotauth_redis_password_file redis-password;")
    stderr = check_fails(n, '"spotauth_redis_password_file" needs "spotauth_redis"')
    assert message_line(stderr, "needs").endswith(place_of(n, "spotauth_redis_password_file"))


# --- nginx -t names the mistakes that silently break the product ----------

def spotauth_warnings(stderr):
    return [line for line in stderr.splitlines() if "[warn]" in line and "spotauth" in line]


def test_spotauth_on_without_a_content_handler_warns(make_nginx):
    n = make_nginx(server_extra="""
        location /api/other/ {
            spotauth on;  # no proxy_pass: answered from root
            root html;
        }""")
    warning = message_line(check_passes(n), 'in location "/api/other/" has no content handler')
    assert '[warn]' in warning and '"spotauth on" in location "/api/other/"' in warning
    assert "Add the API's proxy_pass to this location" in warning
    assert warning.endswith(place_of(n, "spotauth on;  # no proxy_pass"))


def test_api_location_without_error_page_401_warns(make_nginx, mock):
    n = make_nginx(server_extra=f"""
        location /api/noreplay/ {{
            spotauth on;  # no error_page 401
            proxy_pass http://{mock.hostport}/;
        }}""")
    warning = message_line(check_passes(n), 'location "/api/noreplay/" has "spotauth on" but no "error_page 401"')
    assert "nothing refreshes it" in warning and "error_page 401 = @spotify_replay;" in warning
    assert warning.endswith(place_of(n, "spotauth on;  # no error_page 401"))


@pytest.mark.parametrize("target,why", [
    ("@nowhere", "which is not a named location of this server"),
    ("@plain", 'which has no "spotauth retry"'),
    ("/401.html", "which is not a named location (location @name)"),
])
def test_error_page_401_that_does_not_replay_warns(make_nginx, mock, target, why):
    n = make_nginx(server_extra=f"""
        location /api/wrong/ {{
            spotauth on;  # replays nowhere
            proxy_pass http://{mock.hostport}/;
            proxy_intercept_errors on;
            error_page 401 = {target};
        }}
        location @plain {{ proxy_pass http://{mock.hostport}; }}""")
    warning = message_line(check_passes(n), f'goes to "{target}", {why}')
    assert 'location "/api/wrong/" has "spotauth on" and its "error_page 401"' in warning
    assert warning.endswith(place_of(n, "spotauth on;  # replays nowhere"))


def test_error_page_401_inherited_from_the_server_counts(make_nginx, mock):
    n = make_nginx(server_extra=f"""
        error_page 401 = @spotify_replay;
        location /api/inherits/ {{
            spotauth on;
            proxy_pass http://{mock.hostport}/;
            proxy_intercept_errors on;
        }}""")
    assert spotauth_warnings(check_passes(n)) == []


@pytest.mark.parametrize("where", ["location", "server", "http"])
def test_retry_outside_a_named_location_is_refused(make_nginx, where):
    misplaced = "spotauth retry;  # misplaced"
    extra = {"location": {"server_extra": f"        location /x/ {{ {misplaced}\n }}"},
             "server": {"server_extra": f"        {misplaced}"},
             "http": {"http_extra": f"    {misplaced}"}}[where]
    n = make_nginx(**extra)
    stderr = check_fails(n, '"spotauth retry" is only allowed in a named location (location @name)',
                         "refresh the token on every request")
    assert message_line(stderr, "is only allowed in a named").endswith(place_of(n, misplaced))


@pytest.mark.parametrize("uri", ["http://localhost:{port}/auth/callback", "https://localhost/auth/callback"])
def test_spotify_refuses_localhost_redirect_uris(make_nginx, uri):
    """Also with spotauth_cookie_secure off (the suite's default)."""
    n = make_nginx(server_extra=SPOTIFY_AUTHORIZE, redirect_uri=uri.format(port=free_port()))
    stderr = check_fails(n, 'names "localhost" (Spotify refuses it: "INVALID_CLIENT: Insecure redirect URI")',
                         '"http://127.0.0.1:PORT/..." or "http://[::1]:PORT/..."')
    assert message_line(stderr, 'names "localhost"').endswith(place_of(n, "spotauth_redirect_uri"))


def test_spotify_refuses_http_redirect_uris_off_loopback(make_nginx):
    n = make_nginx(server_extra=SPOTIFY_AUTHORIZE + "\n        server_name app.example;",
                   redirect_uri="http://app.example/auth/callback")
    stderr = check_fails(n, "is http:// on a host that is not a loopback address (Spotify refuses it", "use https://")
    assert message_line(stderr, "is http://").endswith(place_of(n, "spotauth_redirect_uri"))


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_spotify_accepts_loopback_ip_redirect_uris(make_nginx, host):
    n = make_nginx(server_extra=SPOTIFY_AUTHORIZE, client_id="0123456789abcdef0123456789abcdef",
                   redirect_uri=f"http://{host}:{free_port()}/auth/callback")
    assert spotauth_warnings(check_passes(n)) == []


def test_other_providers_redirect_uris_are_not_judged_by_spotifys_rules(make_nginx):
    # The suite's mock authorize URL, as in the demo.
    n = make_nginx(redirect_uri=f"http://localhost:{free_port()}/auth/callback")
    assert "Insecure redirect URI" not in check_passes(n)


def test_redirect_host_that_no_server_name_matches_warns(make_nginx):
    n = make_nginx(server_extra="        server_name app.example www.app.example;",
                   redirect_uri="http://other.example/auth/callback")
    warning = message_line(check_passes(n), 'has the host "other.example", which no server_name')
    assert ('of the server holding the spotauth_callback location "/auth/callback" matches '
            '(server_name app.example www.app.example)') in warning
    assert 'Add "server_name other.example;" to that server' in warning
    assert warning.endswith(place_of(n, "spotauth_redirect_uri"))
    n = make_nginx(server_extra="        server_name app.example www.app.example;",
                   redirect_uri="http://www.app.example/auth/callback")
    assert spotauth_warnings(check_passes(n)) == []


def test_the_demo_configuration_is_quiet(make_nginx):
    """conf/demo.conf as `./build.sh demo` fills it in: no spotauth warning
    (its mock authorize URL is not Spotify's, so http://127.0.0.1 is fine)."""
    n = make_nginx()
    conf = n.prefix / "conf"
    text = (ROOT / "conf" / "demo.conf").read_text()
    text = (text.replace("@LISTEN@", f"127.0.0.1:{free_port()}").replace("@MOCK@", n.mock.hostport)
            .replace("load_module modules/ngx_http_spotauth_module.so;", f"load_module {MODULE};")
            .replace("include mime.types;", ""))
    n.write_conf_file("nginx.conf", text)
    n.write_conf_file("demo-allowed-users", (ROOT / "conf" / "demo-allowed-users").read_text())
    stderr = check_passes(n)
    assert spotauth_warnings(stderr) == [], stderr
    assert "[warn]" not in stderr, stderr
