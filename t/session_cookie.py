"""Opens and seals spotauth session cookies with a server's key, in the
documented format (docs/how-it-works.md, "Session cookie"); shared by the
integration tests and the benchmarks. A server's key is its key file's bound
to its client id (`client_key_text`, docs/security.md). Needs
python3-cryptography."""
import base64
import hashlib
import json
import secrets
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKEN_LIFETIME = 3600  # what Spotify hands out


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def client_key_text(key_file_text, client_id):
    """The base64 key a server with `client_id` seals with, from its key
    file's text: HKDF-SHA256, empty salt, info "spotauth client key v1:" +
    the client id (spotauth::client_key)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"spotauth client key v1:" + client_id.encode()).derive(base64.b64decode(key_file_text))
    return base64.b64encode(derived).decode()


def seal(key_text, claims):
    key = base64.b64decode(key_text)
    kid = b64url(hashlib.sha256(key).digest()[:8])
    header = b64url(json.dumps({"alg": "dir", "enc": "A256GCM", "kid": kid}, separators=(",", ":")).encode())
    iv = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(iv, json.dumps(claims, separators=(",", ":")).encode(), header.encode())
    return f"{header}..{b64url(iv)}.{b64url(sealed[:-16])}.{b64url(sealed[-16:])}"


def open_claims(key_text, cookie):
    header, _, iv, ciphertext, tag = cookie.split(".")
    plain = AESGCM(base64.b64decode(key_text)).decrypt(unb64url(iv), unb64url(ciphertext) + unb64url(tag),
                                                       header.encode())
    return json.loads(plain)


def expiring(key_text, cookie, seconds_left=30):
    """`cookie` with its access token an hour-long one that expires in
    `seconds_left` (inside the 60 s leeway: the next request refreshes)."""
    claims = open_claims(key_text, cookie)
    now = int(time.time())
    claims["access_expires_at"] = now + seconds_left
    claims["access_issued_at"] = now + seconds_left - TOKEN_LIFETIME
    return seal(key_text, claims)


def session_claims(user, now, access_expires_in=3600, refresh_token=None):
    """Claims of a made-up session (its tokens are unknown to any provider)."""
    return {"typ": "session", "sub": user, "name": user.title(),
            "access_token": "BQ" + secrets.token_urlsafe(150)[:150],
            "refresh_token": refresh_token or "AQ" + secrets.token_urlsafe(130)[:130],
            "access_expires_at": now + access_expires_in, "iat": now, "exp": now + 30 * 86400}
