"""The mock's Web API (api.spotify.com and the other providers' profile
endpoints): the catalogue of artists and tastes, the objects it answers with,
and the handler routes that serve them."""
import hashlib
import string
import time
from dataclasses import dataclass

from support.mock_spotify.parsing import bearer_token
from support.mock_spotify.replies import api_error, json_reply

API_ORIGIN = "https://api.spotify.com"
API_BASE = API_ORIGIN + "/v1"
OPEN_BASE = "https://open.spotify.com"

BASE62 = string.digits + string.ascii_letters

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


class ApiRoutes:
    """MockHandler's Web API routes (/v1/..., /user, /oauth2/v3/userinfo)."""

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
