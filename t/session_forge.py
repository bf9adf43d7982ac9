"""Session cookies sealed the way the module seals them (README, "Session
cookie"), for tests and benchmarks that need many distinct sessions
without a login each. Needs Debian's python3-cryptography."""
import base64
import hashlib
import json
import secrets


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seal_session(key, claims):
    """A compact JWE (dir, A256GCM, kid) of `claims` with the 32-byte `key`."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    kid = b64url(hashlib.sha256(key).digest()[:8])
    header = b64url(json.dumps({"alg": "dir", "enc": "A256GCM", "kid": kid}, separators=(",", ":")).encode())
    iv = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(iv, json.dumps(claims, separators=(",", ":")).encode(), header.encode())
    return f"{header}..{b64url(iv)}.{b64url(sealed[:-16])}.{b64url(sealed[-16:])}"


def session_claims(user, now, access_expires_in=3600, refresh_token=None):
    return {"typ": "session", "sub": user, "name": user.title(),
            "access_token": "BQ" + secrets.token_urlsafe(150)[:150],
            "refresh_token": refresh_token or "AQ" + secrets.token_urlsafe(130)[:130],
            "access_expires_at": now + access_expires_in, "iat": now, "exp": now + 30 * 86400}
