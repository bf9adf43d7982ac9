"""The session cookie is standard JOSE: the `jose` npm package opens it
with nothing but the key file and the client id (the server's key is the
key file's bound to the client id with HKDF, docs/security.md)."""
import subprocess
import time

import pytest

from conftest import login
from support.jose_interop import jose_decrypt


def test_jose_opens_the_session_cookie(server, mock):
    before = int(time.time())
    session, _ = login(server, user="bob")
    opened = jose_decrypt(server.prefix / "conf" / "spotauth.key", session.cookies["spotauth"])
    assert opened["header"]["alg"] == "dir"
    assert opened["header"]["enc"] == "A256GCM"
    assert opened["header"]["kid"]
    claims = opened["claims"]
    tokens = mock.get("/_mock/tokens", user="bob")
    assert claims["sub"] == "bob"
    assert claims["name"] == "Bob Dylan"
    assert claims["access_token"] in tokens["access_tokens"]
    assert claims["refresh_token"] in tokens["refresh_tokens"]
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 30 * 86400
    assert claims["access_expires_at"] == claims["iat"] + 3600


def test_jose_needs_the_sites_client_id(server):
    """The key is bound to the client id: with another client id's key
    (another site sharing the key file) jose cannot open the cookie."""
    session, _ = login(server)
    with pytest.raises(subprocess.CalledProcessError):
        jose_decrypt(server.prefix / "conf" / "spotauth.key", session.cookies["spotauth"], client_id="other-client")
