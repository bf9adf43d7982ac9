"""`nginx -t` catches configuration mistakes with a message that says what
to fix, and the module loads into Debian's stock nginx."""
import base64

import pytest


def check_fails(nginx, *expected):
    result = nginx.check()
    assert result.returncode != 0, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    return result.stderr


def test_valid_config_passes(make_nginx):
    result = make_nginx().check()
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


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


def test_login_in_regex_location_is_refused(make_nginx):
    n = make_nginx(server_extra="        location ~ ^/login$ { spotauth_login; }")
    check_fails(n, "plain path")


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
