#!/usr/bin/python3
"""Mock of Spotify's accounts service and Web API for spotauth's tests and demo.

One HTTP/1.1 server (keep-alive, Content-Length on every answer) plays both
hosts that the nginx module talks to:

accounts.spotify.com
    GET  /authorize          consent page of the authorization-code + PKCE flow
    GET|POST /authorize/decide
                             the consent form's target: 302 back to redirect_uri
                             with ?code=...&state=... or ?error=access_denied
    POST /api/token          grant_type=authorization_code (PKCE S256) and
                             grant_type=refresh_token, client authentication by
                             HTTP Basic only, Spotify-style OAuth error bodies

api.spotify.com (Bearer access token required, Spotify-style error bodies)
    GET  /v1/me, /v1/me/top/artists, /v1/me/top/tracks
    ANY  /v1/echo            mock-only: returns the method, request target and
                             headers it received (shows what nginx forwarded)

Other providers' profile endpoints (the same Bearer access tokens, counted and
faulted like /v1 calls), for spotauth_profile_url and spotauth_profile_claims:
    GET  /user               shaped like GitHub's: {"id": <integer>, "login":
                             <user name>, "name": <display name>, "type": "User"}
    GET  /oauth2/v3/userinfo shaped like Google's: {"sub": <21 digit string>,
                             "name": <display name>, "given_name", "email",
                             "email_verified"}
    The numbers are stable per user: github_user_id() and google_subject().

As on Spotify, /v1/me carries "email" only with scope user-read-email and
"country", "product" and "explicit_content" only with user-read-private; the
top-items endpoints answer 403 "Insufficient client scope" without
user-top-read.  Codes are single use and consumed by any redemption attempt.

Users alice, bob and carol exist from the start; any other user name typed on
the consent page is created on the fly.  Every user is "premium" in "SE"
unless user_products / user_countries (below) say otherwise.

Control API (no authentication, JSON in and out; these requests are not
recorded in the request log):

    GET  /_mock/config       current configuration
    POST /_mock/config       merge a JSON object into it; keys:
        access_ttl         int >= 0, lifetime of newly issued access tokens
        rotate_refresh     bool, refresh grant returns a new refresh token and
                           revokes the presented one
        token_delay        seconds (float) to sleep before answering /api/token
        token_fault        null or "500", "503", "html", "garbage",
                           "missing_access_token", "close", "hang", "drip",
                           "huge", "invalid_client", "429"
        token_fault_count  null (every token request until changed) or the
                           number of next token requests that get token_delay
                           and token_fault; once used up, token_delay,
                           token_fault and token_fault_count are cleared
        api_rate_limit     int >= 0, the next n authenticated /v1 calls get 429
        api_unauthorized   int >= 0, the next n /v1 calls with a valid token get
                           401 "The access token expired" anyway (as when
                           Spotify ends a token early)
        api_delay          seconds (float) to sleep before answering /v1 calls
        profile_id         null or a string /v1/me reports as "id" instead of
                           the user's (hostile-provider tests: CR/LF, length)
        profile_display_name
                           null or a string /v1/me reports as "display_name"
        grant_access_token null or the access token every grant issues (valid
                           at the API like any other) instead of a random one
        grant_refresh_token
                           null or the refresh token code grants (and refresh
                           grants, with rotate_refresh) issue
        user_products      {user: product} /v1/me reports (with scope
                           user-read-private) instead of "premium", e.g.
                           {"bob": "free"}; any string, for hostile tests
        user_countries     {user: country} likewise, instead of "SE"
    POST /_mock/reset        config back to the command-line defaults, counters
                             and request log cleared; {"tokens": true} also
                             forgets all codes, access and refresh tokens
    GET  /_mock/stats        {"token_calls": {"authorization_code", "refresh_token",
                             "total"}, "api_calls", "refresh_tokens_revoked"}
    GET  /_mock/requests[?since=T]
                             recorded requests, oldest first: {"t", "method",
                             "path", "headers", "body", "status", "answered_at"}
    POST /_mock/revoke       {"refresh_token": R} or {"user": U}
    POST /_mock/expire       {"access_token": A} or {"user": U}
    GET  /_mock/tokens[?user=U][&all=1]
                             {"access_tokens": [unexpired], "refresh_tokens":
                             [not revoked]}; all=1 includes expired and
                             revoked ones (every token ever issued)

Run: /usr/bin/python3 t/mock_spotify.py --port 0 --client-id demo-client \
         --client-secret-file PATH [--access-ttl 3600] [--rotate-refresh] \
         [--consent-hint TEXT]
It prints "mock_spotify listening on http://HOST:PORT" once bound and serves
until SIGTERM or SIGINT.
"""

import argparse
import base64
import hashlib
import html
import json
import math
import re
import secrets
import select
import signal
import socket
import socketserver
import string
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

API_ORIGIN = "https://api.spotify.com"
API_BASE = API_ORIGIN + "/v1"
OPEN_BASE = "https://open.spotify.com"

CODE_TTL = 600                      # authorization codes live 10 minutes
HANG_SECONDS = 60                   # longest a "hang" fault keeps a request
MAX_BODY = 1024 * 1024              # largest request body accepted
HUGE_BODY_SIZE = 10 * 1024 * 1024   # size of the "huge" fault's answer
IDLE_TIMEOUT = 75                   # seconds an idle keep-alive connection stays

TOKEN_FAULTS = frozenset({
    "500", "503", "html", "garbage", "missing_access_token", "close", "hang",
    "drip", "huge", "invalid_client", "429",
})

USER_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PKCE_VALUE_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
BASE62 = string.digits + string.ascii_letters

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

# name -> (genres, popularity)
ARTISTS = {
    "Jefferson Airplane": (["psychedelic rock", "san francisco sound", "folk rock"], 62),
    "The Beatles": (["british invasion", "classic rock", "merseybeat", "psychedelic rock", "rock"], 86),
    "Pink Floyd": (["album rock", "art rock", "classic rock", "progressive rock", "psychedelic rock"], 81),
    "The Doors": (["acid rock", "classic rock", "psychedelic rock", "rock"], 74),
    "Cream": (["blues rock", "british blues", "classic rock", "psychedelic rock"], 63),
    "Woody Guthrie": (["american folk revival", "folk", "traditional folk"], 52),
    "Joan Baez": (["american folk revival", "folk", "singer-songwriter"], 55),
    "Johnny Cash": (["arkansas country", "outlaw country", "rockabilly"], 78),
    "The Band": (["americana", "classic rock", "country rock", "folk rock", "roots rock"], 60),
    "Leonard Cohen": (["canadian singer-songwriter", "folk", "melancholia"], 70),
    "The Beach Boys": (["baroque pop", "classic rock", "sunshine pop", "surf music"], 72),
    "Glen Campbell": (["arkansas country", "classic country pop", "nashville sound"], 61),
    "The Monkees": (["bubblegum pop", "sunshine pop"], 62),
    "Frank Zappa": (["art rock", "avant-garde", "experimental rock"], 56),
    "Simon & Garfunkel": (["folk rock", "mellow gold"], 76),
    "Daft Punk": (["electro", "filter house", "french house"], 80),
    "Radiohead": (["alternative rock", "art rock", "permanent wave", "rock"], 82),
    "Björk": (["art pop", "icelandic experimental", "trip hop"], 64),
    "Massive Attack": (["bristol sound", "electronica", "trip hop"], 67),
    "Portishead": (["bristol sound", "electronica", "trip hop"], 62),
}


@dataclass(frozen=True)
class Taste:
    """A user's top artists (names in ARTISTS) and top tracks
    (title, artist, album, release year, duration in ms)."""
    artists: tuple
    tracks: tuple


TASTES = {
    "alice": Taste(
        ("Jefferson Airplane", "The Beatles", "Pink Floyd", "The Doors", "Cream"),
        (("White Rabbit", "Jefferson Airplane", "Surrealistic Pillow", "1967", 151_000),
         ("Lucy in the Sky with Diamonds", "The Beatles", "Sgt. Pepper's Lonely Hearts Club Band", "1967", 208_000),
         ("Breathe (In the Air)", "Pink Floyd", "The Dark Side of the Moon", "1973", 169_000),
         ("Sunshine of Your Love", "Cream", "Disraeli Gears", "1967", 250_000))),
    "bob": Taste(
        ("Woody Guthrie", "Joan Baez", "Johnny Cash", "The Band", "Leonard Cohen"),
        (("This Land Is Your Land", "Woody Guthrie", "This Land Is Your Land: The Asch Recordings, Vol. 1", "1997", 164_000),
         ("Diamonds & Rust", "Joan Baez", "Diamonds & Rust", "1975", 286_000),
         ("Folsom Prison Blues", "Johnny Cash", "With His Hot and Blue Guitar", "1957", 165_000),
         ("The Weight", "The Band", "Music from Big Pink", "1968", 274_000))),
    "carol": Taste(
        ("The Beach Boys", "Glen Campbell", "The Monkees", "Frank Zappa", "Simon & Garfunkel"),
        (("Good Vibrations", "The Beach Boys", "Smiley Smile", "1967", 216_000),
         ("Wichita Lineman", "Glen Campbell", "Wichita Lineman", "1968", 183_000),
         ("I'm a Believer", "The Monkees", "More of the Monkees", "1967", 166_000),
         ("The Boxer", "Simon & Garfunkel", "Bridge over Troubled Water", "1970", 308_000))),
}
DEFAULT_TASTE = Taste(
    ("Daft Punk", "Radiohead", "Björk", "Massive Attack", "Portishead"),
    (("Around the World", "Daft Punk", "Homework", "1997", 429_000),
     ("Paranoid Android", "Radiohead", "OK Computer", "1997", 387_000),
     ("Jóga", "Björk", "Homogenic", "1997", 305_000),
     ("Teardrop", "Massive Attack", "Mezzanine", "1998", 330_000)))

PREDEFINED_USERS = {"alice": "Alice Liddell", "bob": "Bob Dylan", "carol": "Carol Kaye"}


# --------------------------------------------------------------------------
# Helpers

def spotify_id(kind, name):
    """A stable, realistic-looking 22 character base62 Spotify ID."""
    number = int.from_bytes(hashlib.sha256(f"{kind}:{name}".encode()).digest(), "big")
    digits = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(digits)


def github_user_id(user):
    """The stable integer id of the GitHub-shaped /user answer."""
    return int.from_bytes(hashlib.sha256(f"github:{user}".encode()).digest()[:4], "big")


def google_subject(user):
    """The stable 21 digit "sub" of the Google-shaped userinfo answer."""
    number = int.from_bytes(hashlib.sha256(f"google:{user}".encode()).digest(), "big")
    return "1" + str(number % 10 ** 20).zfill(20)


def random_token(prefix, length):
    """A random URL-safe token: prefix followed by length characters."""
    return prefix + secrets.token_urlsafe(length)[:length]


def pkce_challenge(verifier):
    """BASE64URL-nopad(SHA256(verifier)), the S256 code challenge."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FormError(ValueError):
    """A request body that is not a well-formed url-encoded form."""


def parse_form(body):
    """Parse an application/x-www-form-urlencoded body into a dict."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          strict_parsing=True, errors="strict", max_num_fields=100)
    except ValueError as exc:
        raise FormError(f"Malformed form body: {exc}") from exc
    form = {}
    for name, value in pairs:
        if name in form:
            raise FormError(f"Duplicate parameter: {name}")
        form[name] = value
    return form


def parse_json_object(body):
    """Parse a control API body: empty means {}, anything else must be an object."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"invalid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError("JSON body must be an object")
    return value


def with_query(uri, params):
    """Append url-encoded params to uri, keeping any query it already has."""
    separator = "&" if "?" in uri else "?"
    if uri.endswith(("?", "&")):
        separator = ""
    return uri + separator + urlencode(params)


def valid_redirect_uri(uri):
    """An absolute http(s) URI without fragment, printable ASCII only."""
    if not re.fullmatch(r"[\x21-\x7e]+", uri):
        return False
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def bearer_token(header):
    """The token of an 'Authorization: Bearer <token>' header, else None."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def basic_credentials(header):
    """(client_id, client_secret) of an 'Authorization: Basic' header, else None."""
    scheme, _, encoded = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    client_id, colon, secret = decoded.partition(":")
    return (client_id, secret) if colon else None


# --------------------------------------------------------------------------
# Spotify objects

def external_url(kind, object_id):
    return {"spotify": f"{OPEN_BASE}/{kind}/{object_id}"}


def simple_artist(name):
    artist_id = spotify_id("artist", name)
    return {"external_urls": external_url("artist", artist_id),
            "href": f"{API_BASE}/artists/{artist_id}", "id": artist_id,
            "name": name, "type": "artist", "uri": f"spotify:artist:{artist_id}"}


def full_artist(name):
    genres, popularity = ARTISTS[name]
    artist = simple_artist(name)
    artist.update({"followers": {"href": None, "total": popularity * 48_611},
                   "genres": list(genres), "images": [], "popularity": popularity})
    return artist


def track(title, artist, album, year, duration_ms):
    album_id = spotify_id("album", f"{artist}/{album}")
    track_id = spotify_id("track", f"{artist}/{title}")
    return {
        "album": {"album_type": "album", "artists": [simple_artist(artist)],
                  "external_urls": external_url("album", album_id),
                  "href": f"{API_BASE}/albums/{album_id}", "id": album_id,
                  "images": [], "name": album, "release_date": year,
                  "release_date_precision": "year", "total_tracks": 11,
                  "type": "album", "uri": f"spotify:album:{album_id}"},
        "artists": [simple_artist(artist)],
        "disc_number": 1, "duration_ms": duration_ms, "explicit": False,
        "external_urls": external_url("track", track_id),
        "href": f"{API_BASE}/tracks/{track_id}", "id": track_id,
        "is_local": False, "name": title, "popularity": ARTISTS[artist][1] - 3,
        "preview_url": None, "track_number": 1, "type": "track",
        "uri": f"spotify:track:{track_id}",
    }


def user_profile(user, display_name, scopes, product="premium", country="SE"):
    """The /v1/me object, with the fields the granted scopes allow."""
    profile = {
        "display_name": display_name,
        "external_urls": {"spotify": f"{OPEN_BASE}/user/{user}"},
        "followers": {"href": None, "total": 42},
        "href": f"{API_BASE}/users/{user}", "id": user, "images": [],
        "type": "user", "uri": f"spotify:user:{user}",
    }
    if "user-read-email" in scopes:
        profile["email"] = f"{user}@example.com"
    if "user-read-private" in scopes:
        profile.update({"country": country, "product": product,
                        "explicit_content": {"filter_enabled": False,
                                             "filter_locked": False}})
    return profile


def github_profile(user, display_name):
    return {"id": github_user_id(user), "login": user, "name": display_name, "type": "User"}


def google_userinfo(user, display_name):
    return {"sub": google_subject(user), "name": display_name, "given_name": (display_name.split() or [user])[0],
            "email": f"{user}@example.com", "email_verified": True}


# Path -> the answer for (user, display name).
OTHER_PROFILES = {"/user": github_profile, "/oauth2/v3/userinfo": google_userinfo}


class ApiError(Exception):
    """A Web API error answer: {"error": {"status": ..., "message": ...}}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def paging(items, endpoint, query):
    """A Spotify paging object over items, honouring limit and offset."""
    limit = int_param(query, "limit", 20, 1, 50)
    offset = int_param(query, "offset", 0, 0, 100_000)
    if query.get("time_range", "medium_term") not in ("short_term", "medium_term", "long_term"):
        raise ApiError(400, "Invalid time range")

    def page_url(page_offset):
        return f"{API_ORIGIN}{endpoint}?limit={limit}&offset={page_offset}"

    total = len(items)
    return {
        "href": page_url(offset),
        "items": items[offset:offset + limit],
        "limit": limit,
        "next": page_url(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": page_url(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }


def int_param(query, name, default, low, high):
    """An integer query parameter within [low, high], else ApiError 400."""
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError(400, f"Invalid {name}")
    return int(text)


# --------------------------------------------------------------------------
# Configuration

def _non_negative_number(key, value):
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{key} must be a non-negative number")
    return value


def _non_negative_int(key, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a non-negative integer")
    return value


def _optional_count(key, value):
    return None if value is None else _non_negative_int(key, value)


def _boolean(key, value):
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _optional_string(key, value):
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be null or a string")
    return value


def _string_map(key, value):
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{key} must be an object of strings")
    return dict(value)


def _token_fault(key, value):
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value not in TOKEN_FAULTS:
        raise ValueError(f"{key} must be null or one of {sorted(TOKEN_FAULTS)}")
    return value


CONFIG_VALIDATORS = {
    "access_ttl": _non_negative_int,
    "rotate_refresh": _boolean,
    "token_delay": _non_negative_number,
    "token_fault": _token_fault,
    "token_fault_count": _optional_count,
    "api_rate_limit": lambda key, value: _non_negative_int(key, value or 0),
    "api_unauthorized": lambda key, value: _non_negative_int(key, value or 0),
    "api_delay": _non_negative_number,
    "profile_id": _optional_string,
    "profile_display_name": _optional_string,
    "grant_access_token": _optional_string,
    "grant_refresh_token": _optional_string,
    "user_products": _string_map,
    "user_countries": _string_map,
}


def validate_config(patch):
    """Check and normalise a POST /_mock/config body; raises ValueError."""
    unknown = sorted(set(patch) - set(CONFIG_VALIDATORS))
    if unknown:
        raise ValueError(f"unknown config keys: {unknown}")
    return {key: CONFIG_VALIDATORS[key](key, value) for key, value in patch.items()}


# --------------------------------------------------------------------------
# State

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


class MockState:
    """Everything the mock remembers, guarded by one lock."""

    def __init__(self, client_id, client_secret, access_ttl, rotate_refresh):
        self.client_id = client_id
        self.client_secret = client_secret
        self.defaults = {"access_ttl": access_ttl, "rotate_refresh": rotate_refresh,
                         "token_delay": 0, "token_fault": None,
                         "token_fault_count": None, "api_rate_limit": 0,
                         "api_unauthorized": 0,
                         "api_delay": 0, "profile_id": None,
                         "profile_display_name": None, "grant_access_token": None,
                         "grant_refresh_token": None, "user_products": {},
                         "user_countries": {}}
        self._lock = threading.Lock()
        self._users = dict(PREDEFINED_USERS)
        self._forget_tokens()
        self._clear_counters()

    def _forget_tokens(self):
        self._codes = {}
        self._access_tokens = {}
        self._refresh_tokens = {}

    def _clear_counters(self):
        self._config = dict(self.defaults)
        self._token_calls = {"authorization_code": 0, "refresh_token": 0, "total": 0}
        self._api_calls = 0
        self._revoked = 0
        self._requests = []

    # -- control API --------------------------------------------------------

    def reset(self, forget_tokens):
        with self._lock:
            self._clear_counters()
            if forget_tokens:
                self._forget_tokens()

    def config(self):
        with self._lock:
            return dict(self._config)

    def update_config(self, changes):
        with self._lock:
            self._config.update(changes)
            return dict(self._config)

    def stats(self):
        with self._lock:
            return {"token_calls": dict(self._token_calls), "api_calls": self._api_calls,
                    "refresh_tokens_revoked": self._revoked}

    def record_request(self, entry):
        with self._lock:
            self._requests.append(entry)

    def finish_request(self, entry, status):
        with self._lock:
            entry["status"] = status
            entry["answered_at"] = time.time()

    def requests_since(self, since):
        with self._lock:
            return [dict(entry) for entry in self._requests if entry["t"] >= since]

    def revoke(self, refresh_token=None, user=None):
        """Revoke one refresh token or all of a user's; returns how many."""
        with self._lock:
            matches = [record for token, record in self._refresh_tokens.items()
                       if not record.revoked and (token == refresh_token or record.user == user)]
            for record in matches:
                self._revoke(record)
            return len(matches)

    def expire(self, access_token=None, user=None):
        """Make one access token or all of a user's expired; returns how many."""
        now = time.time()
        with self._lock:
            matches = [record for token, record in self._access_tokens.items()
                       if record.expires_at > now and (token == access_token or record.user == user)]
            for record in matches:
                record.expires_at = now
            return len(matches)

    def tokens(self, user, include_dead=False):
        now = time.time()
        with self._lock:
            return {
                "access_tokens": [token for token, record in self._access_tokens.items()
                                  if (include_dead or record.expires_at > now)
                                  and user in (None, record.user)],
                "refresh_tokens": [token for token, record in self._refresh_tokens.items()
                                   if (include_dead or not record.revoked)
                                   and user in (None, record.user)],
            }

    # -- accounts service -----------------------------------------------------

    def client_ok(self, credentials):
        if credentials is None:
            return False
        client_id, secret = credentials
        return (secrets.compare_digest(client_id.encode(), self.client_id.encode())
                and secrets.compare_digest(secret.encode(), self.client_secret.encode()))

    def issue_code(self, params, user):
        code = random_token("AQ", 250)
        with self._lock:
            self._users.setdefault(user, user)
            self._codes[code] = AuthCode(
                client_id=params["client_id"], redirect_uri=params["redirect_uri"],
                code_challenge=params.get("code_challenge", ""), user=user,
                scope=params.get("scope", ""), expires_at=time.time() + CODE_TTL)
        return code

    def count_token_call(self, grant_type):
        """Count a token request; return the (delay, fault) that apply to it."""
        with self._lock:
            self._token_calls["total"] += 1
            if grant_type in self._token_calls:
                self._token_calls[grant_type] += 1
            config = self._config
            delay, fault, remaining = (config["token_delay"], config["token_fault"],
                                       config["token_fault_count"])
            if not (delay or fault) or remaining == 0:
                return 0, None
            if remaining is not None:
                config["token_fault_count"] = remaining - 1
                if remaining == 1:
                    config.update(token_delay=0, token_fault=None, token_fault_count=None)
            return delay, fault

    def redeem_code(self, client_id, form):
        """grant_type=authorization_code; returns (status, JSON payload)."""
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                return oauth_error("invalid_request", f"{name} must be supplied")
        with self._lock:
            code = self._codes.pop(form["code"], None)
            if code is None or code.expires_at <= time.time() or code.client_id != client_id:
                return oauth_error("invalid_grant", "Invalid authorization code")
            if form["redirect_uri"] != code.redirect_uri:
                return oauth_error("invalid_grant", "Invalid redirect URI")
            if code.code_challenge:
                verifier = form.get("code_verifier")
                if not verifier:
                    return oauth_error("invalid_request", "code_verifier must be supplied")
                if not secrets.compare_digest(pkce_challenge(verifier), code.code_challenge):
                    return oauth_error("invalid_grant", "code_verifier was incorrect")
            refresh_token = self._config["grant_refresh_token"] or random_token("AQ", 130)
            self._refresh_tokens[refresh_token] = RefreshToken(code.user, client_id, code.scope)
            return 200, self._grant(code.user, client_id, code.scope, refresh_token)

    def refresh(self, client_id, form):
        """grant_type=refresh_token; returns (status, JSON payload)."""
        presented = form.get("refresh_token")
        if not presented:
            return oauth_error("invalid_request", "refresh_token must be supplied")
        with self._lock:
            record = self._refresh_tokens.get(presented)
            if record is None or record.revoked or record.client_id != client_id:
                return oauth_error("invalid_grant", "Refresh token revoked")
            new_refresh_token = None
            if self._config["rotate_refresh"]:
                new_refresh_token = self._config["grant_refresh_token"] or random_token("AQ", 130)
                self._refresh_tokens[new_refresh_token] = RefreshToken(
                    record.user, client_id, record.scope)
                self._revoke(record)
            return 200, self._grant(record.user, client_id, record.scope, new_refresh_token)

    def _revoke(self, record):
        record.revoked = True
        self._revoked += 1

    def _grant(self, user, client_id, scope, refresh_token):
        """Issue an access token (lock held) and build the token response."""
        ttl = self._config["access_ttl"]
        access_token = self._config["grant_access_token"] or random_token("BQ", 150)
        self._access_tokens[access_token] = AccessToken(user, client_id, scope, time.time() + ttl)
        payload = {"access_token": access_token, "token_type": "Bearer",
                   "expires_in": ttl, "scope": scope}
        if refresh_token:
            payload["refresh_token"] = refresh_token
        return payload

    # -- Web API ------------------------------------------------------------------

    def count_api_call(self):
        """Count a /v1 request; return the delay configured for it."""
        with self._lock:
            self._api_calls += 1
            return self._config["api_delay"]

    def take_rate_limit(self):
        """True when this API call is one of the next api_rate_limit ones."""
        return self._take_countdown("api_rate_limit")

    def take_forced_401(self):
        """True when this API call is one of the next api_unauthorized ones."""
        return self._take_countdown("api_unauthorized")

    def _take_countdown(self, key):
        with self._lock:
            if self._config[key] > 0:
                self._config[key] -= 1
                return True
            return False

    def authenticate(self, token):
        """(user, display name, scopes) of a valid access token, else ApiError 401."""
        with self._lock:
            record = self._access_tokens.get(token)
            if record is None:
                raise ApiError(401, "Invalid access token")
            if record.expires_at <= time.time():
                raise ApiError(401, "The access token expired")
            return record.user, self._users[record.user], set(record.scope.split())


# --------------------------------------------------------------------------
# Replies

@dataclass
class Reply:
    """An answer; pace is "normal", "drip" (one byte a second), "close"
    (drop the connection unanswered) or "hang" (never answer)."""
    status: int = 200
    body: object = b""                  # bytes, or a PaddedJson streamed in chunks
    content_type: Optional[str] = "application/json"
    headers: list = field(default_factory=list)
    pace: str = "normal"


class PaddedJson:
    """A JSON object padded to about size bytes, produced chunk by chunk."""

    CHUNK = 64 * 1024

    def __init__(self, fields, size):
        self.head = json.dumps(fields, separators=(",", ":"))[:-1].encode() + b',"padding":"'
        self.tail = b'"}'
        self.padding = max(0, size - len(self.head) - len(self.tail))

    def __len__(self):
        return len(self.head) + self.padding + len(self.tail)

    def __iter__(self):
        yield self.head
        remaining = self.padding
        while remaining:
            step = min(remaining, self.CHUNK)
            yield b"x" * step
            remaining -= step
        yield self.tail


def json_reply(status, payload, headers=()):
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(),
                 "application/json", list(headers))


NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def token_reply(status, payload):
    return json_reply(status, payload, NO_STORE)


def api_error(status, message, headers=()):
    return json_reply(status, {"error": {"status": status, "message": message}}, headers)


def control_error(status, message):
    return json_reply(status, {"error": message})


def redirect(location):
    return Reply(302, b"", None, [("Location", location), ("Cache-Control", "no-store")])


PAGE_CSS = """
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:linear-gradient(#1f1f1f,#000);color:#fff;
font-family:"Helvetica Neue",Helvetica,Arial,sans-serif}
main{background:#121212;border-radius:8px;padding:40px 48px;width:min(440px,90vw);
box-shadow:0 8px 24px rgba(0,0,0,.5)}
.logo{color:#1ed760;font-weight:700;font-size:22px;margin-bottom:24px}
.logo small{color:#a7a7a7;font-weight:400;font-size:13px}
h1{font-size:24px;line-height:1.3;margin:0 0 16px}
p,li{color:#b3b3b3;font-size:14px;line-height:1.5}
ul{padding-left:20px;margin:0 0 24px}
label{display:block;font-size:14px;font-weight:700;margin-bottom:8px}
input[name=user]{box-sizing:border-box;width:100%;padding:12px;border-radius:4px;
border:1px solid #727272;background:#121212;color:#fff;font-size:16px}
.buttons{display:flex;gap:12px;margin-top:28px}
button{flex:1;border:0;border-radius:500px;padding:14px;font-size:16px;font-weight:700;cursor:pointer}
#agree{background:#1ed760;color:#000}
#cancel{background:transparent;color:#fff;border:1px solid #727272}
.error{color:#f15e6c;font-family:monospace;font-size:15px}
"""

PAGE = string.Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title><style>$css</style></head>
<body><main>
<div class="logo">&#9679; Spotify <small>(mock)</small></div>
$content
</main></body></html>
""")


def html_reply(status, title, content):
    page = PAGE.substitute(title=html.escape(title), css=PAGE_CSS, content=content)
    return Reply(status, page.encode(), "text/html; charset=utf-8", [("Cache-Control", "no-store")])


def error_page(status, message):
    return html_reply(status, "Error - Spotify",
                      "<h1>Oops! Something went wrong, please try again.</h1>"
                      f'<p class="error">{html.escape(message)}</p>')


DEFAULT_CONSENT_HINT = "Try alice, bob, carol or any other name."


def consent_page(params, hint=DEFAULT_CONSENT_HINT):
    """Spotify's "<client> wants to access your Spotify account" page; `hint`
    is the line under the user field (--consent-hint)."""
    scopes = params.get("scope", "").split()
    items = "".join(f"<li>{html.escape(SCOPES[scope])}</li>" for scope in scopes) \
        or "<li>View your public profile information</li>"
    hidden = "".join(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">\n'
                     for name, value in params.items())
    client = html.escape(params["client_id"])
    content = f"""<h1>{client} wants to access your Spotify account</h1>
<p>You agree that {client} will be able to:</p>
<ul>{items}</ul>
<form method="post" action="/authorize/decide">
{hidden}<label for="user">Log in as</label>
<input id="user" name="user" value="alice" autocomplete="username">
<p id="hint">{html.escape(hint)}</p>
<div class="buttons">
<button name="decision" value="agree" id="agree">Agree</button>
<button name="decision" value="cancel" id="cancel">Cancel</button>
</div>
</form>"""
    return html_reply(200, "Authorize - Spotify", content)


def authorize_params(query):
    """The /authorize parameters carried through the consent form."""
    names = ("client_id", "response_type", "redirect_uri", "scope", "state",
             "code_challenge", "code_challenge_method", "show_dialog")
    return {name: query[name] for name in names if name in query}


def authorize_problem(params, client_id):
    """The error answer for bad /authorize parameters, or None when valid."""
    if params.get("client_id") != client_id:
        return error_page(400, "INVALID_CLIENT: Invalid client")
    if not valid_redirect_uri(params.get("redirect_uri", "")):
        return error_page(400, "INVALID_CLIENT: Invalid redirect URI")
    if params.get("response_type") != "code":
        return redirect_error(params, "unsupported_response_type")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if (challenge or method) and (method != "S256" or not PKCE_VALUE_RE.fullmatch(challenge or "")):
        return redirect_error(params, "invalid_request")
    if any(scope not in SCOPES for scope in params.get("scope", "").split()):
        return redirect_error(params, "invalid_scope")
    return None


def redirect_error(params, error):
    result = {"error": error}
    if "state" in params:
        result["state"] = params["state"]
    return redirect(with_query(params["redirect_uri"], result))


def token_fault_reply(fault, ttl):
    """The answer a token fault produces instead of the normal one."""
    replies = {
        "500": lambda: token_reply(500, {"error": "server_error"}),
        "503": lambda: token_reply(503, {"error": "temporarily_unavailable"}),
        "html": lambda: Reply(200, b"<html><body>Bad gateway</body></html>", "text/html"),
        "garbage": lambda: Reply(200, b'{"access_tok', "application/json", list(NO_STORE)),
        "missing_access_token": lambda: token_reply(
            200, {"token_type": "Bearer", "expires_in": ttl, "scope": ""}),
        "close": lambda: Reply(pace="close"),
        "hang": lambda: Reply(pace="hang"),
        "huge": lambda: Reply(200, PaddedJson(
            {"access_token": random_token("BQ", 150), "token_type": "Bearer",
             "expires_in": ttl, "scope": ""}, HUGE_BODY_SIZE), "application/json", list(NO_STORE)),
        "invalid_client": lambda: token_reply(*oauth_error("invalid_client", "Invalid client")),
        "429": lambda: json_reply(429, {"error": "rate_limit_exceeded",
                                        "error_description": "Too many requests"},
                                  [("Retry-After", "2")]),
    }
    return replies[fault]()


# --------------------------------------------------------------------------
# HTTP

class BadRequest(Exception):
    """A request whose body cannot be read; answered and the connection closed."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock_spotify/1.0"
    timeout = IDLE_TIMEOUT
    # Token endpoints, whose request bodies the request log keeps (a
    # subclass mocking other providers adds theirs).
    token_paths = ("/api/token",)

    @property
    def state(self):
        return self.server.state

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing -----------------------------------------------------------------

    def _dispatch(self):
        arrived = time.time()
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            body = self._read_body()
        except BadRequest as exc:
            self.close_connection = True
            body, reply = b"", json_reply(exc.status, {"error": "invalid_request",
                                                       "error_description": exc.message})
        else:
            reply = None
        entry = None
        if not url.path.startswith("/_mock/"):
            entry = {"t": arrived, "method": self.command, "path": self.path,
                     "headers": self._header_dict(),
                     "body": body.decode("utf-8", "replace") if url.path in self.token_paths else "",
                     "status": None, "answered_at": None}
            self.state.record_request(entry)
        if reply is None:
            reply = self._route(url.path, query, body)
        status = self._send(reply)
        if entry is not None:
            self.state.finish_request(entry, status)
        self.log_request(status or "-")

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise BadRequest(400, "Invalid Content-Length")
        if int(length) > MAX_BODY:
            raise BadRequest(413, "Request body too large")
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            raise BadRequest(400, "Truncated request body")
        return body

    def _read_chunked(self):
        body = bytearray()
        while True:
            size_field = self.rfile.readline(1024).split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_field):
                raise BadRequest(400, "Invalid chunk size")
            size = int(size_field, 16)
            if size == 0:
                break
            if len(body) + size > MAX_BODY:
                raise BadRequest(413, "Request body too large")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest(400, "Malformed chunked body")
            body += chunk
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass  # skip trailer fields
        return bytes(body)

    def _header_dict(self):
        """Request headers, names lowercased, repeated ones joined."""
        merged = {}
        for name, value in self.headers.items():
            key = name.lower()
            if key in merged:
                merged[key] += ("; " if key == "cookie" else ", ") + value
            else:
                merged[key] = value
        return merged

    def _send(self, reply):
        """Write reply as its pace demands; returns the status sent (None if none)."""
        if reply.pace in ("close", "hang"):
            if reply.pace == "hang":
                self._hang()
            self.close_connection = True
            return None
        head = self._head(reply)
        try:
            if reply.pace == "drip":
                self._drip(head + reply.body)
            else:
                self.wfile.write(head)
                for chunk in [reply.body] if isinstance(reply.body, bytes) else reply.body:
                    self.wfile.write(chunk)
        except ConnectionError:
            self.close_connection = True
        return reply.status

    def _head(self, reply):
        lines = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}",
                 f"Server: {self.server_version}", f"Date: {self.date_time_string()}"]
        if reply.content_type:
            lines.append(f"Content-Type: {reply.content_type}")
        lines.append(f"Content-Length: {len(reply.body)}")
        lines += [f"{name}: {value}" for name, value in reply.headers]
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _hang(self):
        """Answer nothing until the peer closes the connection or HANG_SECONDS pass."""
        deadline = time.monotonic() + HANG_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], remaining)
            try:
                if readable and not self.connection.recv(65536):
                    return
            except OSError:
                return

    def _drip(self, data):
        for index in range(len(data)):
            if index:
                time.sleep(1)
            self.wfile.write(data[index:index + 1])

    # -- routing ------------------------------------------------------------------

    def _route(self, path, query, body):
        if path == "/authorize":
            return self._authorize(query) if self.command == "GET" else self._page_405("GET")
        if path == "/authorize/decide":
            return self._decide(query, body)
        if path == "/api/token":
            return self._token(body) if self.command == "POST" else self._token_405()
        if path.startswith("/v1/") or path in OTHER_PROFILES:
            return self._web_api(path, query)
        if path.startswith("/_mock/"):
            return self._control(path, query, body)
        return error_page(404, "Page not found")

    def _page_405(self, allowed):
        reply = error_page(405, "Method not allowed")
        reply.headers.append(("Allow", allowed))
        return reply

    def _token_405(self):
        return json_reply(405, {"error": "invalid_request",
                                "error_description": "Only POST is supported"},
                          [("Allow", "POST")])

    # -- accounts service -------------------------------------------------------

    def _authorize(self, query):
        params = authorize_params(query)
        return authorize_problem(params, self.state.client_id) or consent_page(params, self.server.consent_hint)

    def _decide(self, query, body):
        if self.command == "GET":
            fields = query
        elif self.command == "POST":
            try:
                fields = parse_form(body)
            except FormError as exc:
                return error_page(400, f"INVALID_REQUEST: {exc}")
        else:
            return self._page_405("GET, POST")
        params = authorize_params(fields)
        problem = authorize_problem(params, self.state.client_id)
        if problem:
            return problem
        decision = fields.get("decision")
        if decision == "cancel":
            return redirect_error(params, "access_denied")
        if decision != "agree":
            return error_page(400, "INVALID_REQUEST: decision must be agree or cancel")
        user = fields.get("user", "alice").strip()
        if not USER_NAME_RE.fullmatch(user):
            return error_page(400, "INVALID_REQUEST: Invalid user name")
        result = {"code": self.state.issue_code(params, user)}
        if "state" in params:
            result["state"] = params["state"]
        return redirect(with_query(params["redirect_uri"], result))

    def _token(self, body):
        form_error = None
        try:
            if self.headers.get_content_type() != "application/x-www-form-urlencoded":
                raise FormError("Content-Type must be application/x-www-form-urlencoded")
            form = parse_form(body)
        except FormError as exc:
            form, form_error = {}, str(exc)
        delay, fault = self.state.count_token_call(form.get("grant_type"))
        if delay:
            time.sleep(delay)
        if fault and fault != "drip":
            return token_fault_reply(fault, self.state.config()["access_ttl"])
        reply = self._token_grant(form, form_error)
        if fault == "drip":
            reply.pace = "drip"
        return reply

    def _token_grant(self, form, form_error):
        credentials = basic_credentials(self.headers.get("Authorization"))
        if not self.state.client_ok(credentials):
            return token_reply(*oauth_error("invalid_client", "Invalid client"))
        if form_error:
            return token_reply(*oauth_error("invalid_request", form_error))
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return token_reply(*self.state.redeem_code(credentials[0], form))
        if grant_type == "refresh_token":
            return token_reply(*self.state.refresh(credentials[0], form))
        if not grant_type:
            return token_reply(*oauth_error("unsupported_grant_type",
                                            "grant_type parameter is missing"))
        return token_reply(*oauth_error("unsupported_grant_type",
                                        "grant_type must be authorization_code or refresh_token"))

    # -- Web API ------------------------------------------------------------------

    def _web_api(self, path, query):
        delay = self.state.count_api_call()
        if delay:
            time.sleep(delay)
        challenge = [("WWW-Authenticate", 'Bearer realm="spotify"')]
        token = bearer_token(self.headers.get("Authorization"))
        if token is None:
            return api_error(401, "No token provided", challenge)
        try:
            user, display_name, scopes = self.state.authenticate(token)
            if self.state.take_forced_401():
                raise ApiError(401, "The access token expired")
            if self.state.take_rate_limit():
                return api_error(429, "API rate limit exceeded", [("Retry-After", "1")])
            return self._api_resource(path, query, user, display_name, scopes)
        except ApiError as exc:
            return api_error(exc.status, exc.message, challenge if exc.status == 401 else ())

    def _api_resource(self, path, query, user, display_name, scopes):
        if path in OTHER_PROFILES:
            if self.command != "GET":
                raise ApiError(405, "Method not allowed")
            return json_reply(200, OTHER_PROFILES[path](user, display_name))
        if path == "/v1/echo":
            return json_reply(200, {"method": self.command, "path": self.path,
                                    "headers": self._header_dict()})
        if path not in ("/v1/me", "/v1/me/top/artists", "/v1/me/top/tracks"):
            raise ApiError(404, "Service not found")
        if self.command != "GET":
            raise ApiError(405, "Method not allowed")
        if path == "/v1/me":
            config = self.state.config()
            profile = user_profile(user, display_name, scopes,
                                   config["user_products"].get(user, "premium"),
                                   config["user_countries"].get(user, "SE"))
            for key, override in (("id", "profile_id"), ("display_name", "profile_display_name")):
                if config[override] is not None:
                    profile[key] = config[override]
            return json_reply(200, profile)
        if "user-top-read" not in scopes:
            raise ApiError(403, "Insufficient client scope")
        taste = TASTES.get(user, DEFAULT_TASTE)
        if path == "/v1/me/top/artists":
            items = [full_artist(name) for name in taste.artists]
        else:
            items = [track(*spec) for spec in taste.tracks]
        return json_reply(200, paging(items, path, query))

    # -- control API ----------------------------------------------------------------

    def _control(self, path, query, body):
        routes = {
            "/_mock/config": {"GET": self._get_config, "POST": self._post_config},
            "/_mock/reset": {"POST": self._reset},
            "/_mock/stats": {"GET": self._stats},
            "/_mock/requests": {"GET": self._requests},
            "/_mock/revoke": {"POST": self._revoke},
            "/_mock/expire": {"POST": self._expire},
            "/_mock/tokens": {"GET": self._tokens},
        }
        if path not in routes:
            return control_error(404, f"unknown control endpoint {path}")
        handler = routes[path].get(self.command)
        if handler is None:
            reply = control_error(405, "method not allowed")
            reply.headers.append(("Allow", ", ".join(routes[path])))
            return reply
        try:
            payload = parse_json_object(body) if self.command == "POST" else query
            return handler(payload)
        except ValueError as exc:
            return control_error(400, str(exc))

    def _get_config(self, _query):
        return json_reply(200, self.state.config())

    def _post_config(self, patch):
        return json_reply(200, self.state.update_config(validate_config(patch)))

    def _reset(self, options):
        self.state.reset(forget_tokens=options.get("tokens") is True)
        return json_reply(200, {"ok": True})

    def _stats(self, _query):
        return json_reply(200, self.state.stats())

    def _requests(self, query):
        try:
            since = float(query.get("since", "0"))
        except ValueError as exc:
            raise ValueError("since must be a number") from exc
        return json_reply(200, self.state.requests_since(since))

    def _revoke(self, target):
        kind, value = single_target(target, "refresh_token")
        return json_reply(200, {"revoked": self.state.revoke(**{kind: value})})

    def _expire(self, target):
        kind, value = single_target(target, "access_token")
        return json_reply(200, {"expired": self.state.expire(**{kind: value})})

    def _tokens(self, query):
        return json_reply(200, self.state.tokens(query.get("user"), query.get("all") == "1"))


def single_target(target, token_key):
    """The one (key, value) of a revoke/expire body: {token_key: T} or {"user": U}."""
    if len(target) != 1 or next(iter(target)) not in (token_key, "user"):
        raise ValueError(f'body must be {{"{token_key}": ...}} or {{"user": ...}}')
    kind, value = next(iter(target.items()))
    if not isinstance(value, str) or not value:
        raise ValueError(f"{kind} must be a non-empty string")
    return kind, value


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive handlers must not delay exit
    # socketserver listens with a backlog of 5: a burst of nginx's upstream
    # connections (200 requests released at once by one refresh) overflowed
    # it on a loaded machine, and the dropped handshakes waited out TCP's
    # retransmission backoff (seconds).
    request_queue_size = 1024

    def __init__(self, address, state, verbose, consent_hint=DEFAULT_CONSENT_HINT):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.verbose = verbose
        self.consent_hint = consent_hint
        super().__init__(address, MockHandler)

    def server_bind(self):
        # HTTPServer.server_bind would do a reverse DNS lookup of the host.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # peers may go away
            super().handle_error(request, client_address)


# --------------------------------------------------------------------------
# Main

class Stop(BaseException):
    """Raised by the SIGTERM and SIGINT handler to leave serve_forever.
    Not an Exception: socketserver catches those while starting a handler
    thread, which would swallow a signal arriving at that moment."""


def _raise_stop(_signum, _frame):
    raise Stop


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Mock Spotify accounts service and Web API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind, 0 picks a free one")
    parser.add_argument("--client-id", default="demo-client", help="the one registered client id")
    secret = parser.add_mutually_exclusive_group(required=True)
    secret.add_argument("--client-secret", help="the client secret")
    secret.add_argument("--client-secret-file", help="file holding the client secret")
    parser.add_argument("--access-ttl", type=int, default=3600,
                        help="access token lifetime in seconds (default 3600)")
    parser.add_argument("--rotate-refresh", action="store_true",
                        help="refresh grants return a new refresh token and revoke the old one")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--consent-hint", default=DEFAULT_CONSENT_HINT,
                        help="the line under the consent page's user field (the demo names "
                             "who its allow list lets in)")
    args = parser.parse_args(argv)
    if args.client_secret_file:
        try:
            with open(args.client_secret_file, encoding="utf-8") as secret_file:
                args.client_secret = secret_file.read().strip()
        except OSError as exc:
            parser.error(f"cannot read --client-secret-file: {exc}")
    if not args.client_secret:
        parser.error("the client secret is empty")
    if args.access_ttl < 0:
        parser.error("--access-ttl must not be negative")
    return args


def main(argv=None):
    args = parse_args(argv)
    state = MockState(args.client_id, args.client_secret, args.access_ttl, args.rotate_refresh)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _raise_stop)
    server = MockServer((args.host, args.port), state, args.verbose, args.consent_hint)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"mock_spotify listening on http://{shown_host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except Stop:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
