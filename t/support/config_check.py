"""The outcome of `nginx -t` on a test's configuration: it fails with the
expected messages, or passes."""


def check_fails(nginx, *expected):
    result = nginx.check()
    assert result.returncode != 0, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    return result.stderr


def check_passes(nginx):
    result = nginx.check()
    assert result.returncode == 0, result.stderr
    return result.stderr
