"""The mock's accounts model: its users, the scopes Spotify knows, the records
of codes and tokens it hands out, and how tokens and PKCE challenges are made."""
import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

CODE_TTL = 600                      # authorization codes live 10 minutes

USER_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PKCE_VALUE_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")

SCOPES = {
    "ugc-image-upload": "Upload images to personalize your profile or playlist cover",
    "user-read-playback-state": "Read your currently playing content and Spotify Connect devices information",
    "user-modify-playback-state": "Control playback on your Spotify clients and Spotify Connect devices",
    "user-read-currently-playing": "Read your currently playing content",
    "app-remote-control": "Communicate with the Spotify app on your device",
    "streaming": "Play content and control playback on your other devices",
    "playlist-read-private": "Access your private playlists",
    "playlist-read-collaborative": "Access your collaborative playlists",
    "playlist-modify-private": "Manage your private playlists",
    "playlist-modify-public": "Manage your public playlists",
    "user-follow-modify": "Manage who you are following",
    "user-follow-read": "Access your followers and who you are following",
    "user-read-playback-position": "Read your position in content you have played",
    "user-top-read": "Read your top artists and content",
    "user-read-recently-played": "Access your recently played items",
    "user-library-modify": "Manage your saved content",
    "user-library-read": "Access your saved content",
    "user-read-email": "Get your real email address",
    "user-read-private": "Access your subscription details",
    "user-soa-link": "Link a partner user account to a Spotify user account",
    "user-soa-unlink": "Unlink a partner user account from a Spotify account",
    "soa-manage-entitlements": "Modify entitlements for linked users",
    "soa-manage-partner": "Update partner information",
    "soa-create-partner": "Create new partners, platform partners only",
}

PREDEFINED_USERS = {"alice": "Alice Liddell", "bob": "Bob Dylan", "carol": "Carol Kaye"}


def random_token(prefix, length):
    """A random URL-safe token: prefix followed by length characters."""
    return prefix + secrets.token_urlsafe(length)[:length]


def pkce_challenge(verifier):
    """BASE64URL-nopad(SHA256(verifier)), the S256 code challenge."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    code_challenge: str
    user: str
    scope: str
    expires_at: float


@dataclass
class RefreshToken:
    user: str
    client_id: str
    scope: str
    revoked: bool = False


@dataclass
class AccessToken:
    user: str
    client_id: str
    scope: str
    expires_at: float


def oauth_error(error, description):
    return 400, {"error": error, "error_description": description}
