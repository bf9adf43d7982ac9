"""Other OAuth 2.0 providers: spotauth_profile_url and spotauth_profile_claims
read the user from a GitHub- or Google-shaped profile (the mock serves both,
with the same access tokens); Spotify's /v1/me stays the zero-configuration
default."""
import pytest

from conftest import login
from support.mock_spotify.api import github_user_id, google_subject

WHOAMI = """
        location = /whoami-user {
            spotauth on;
            add_header X-User $spotauth_user;
            add_header X-User-Name $spotauth_user_name;
            return 200 "ok\\n";
        }"""


def provider(mock, profile_path, claims):
    lines = [f"        spotauth_profile_url http://{mock.hostport}{profile_path};"]
    if claims:
        lines.append(f"        spotauth_profile_claims {claims};")
    return "\n".join(lines) + WHOAMI


def signed_in_user(n, user):
    session, r = login(n, user=user)
    assert r.status_code == 302, r.text
    who = n.get("/auth/session", session=session).json()
    assert who["authenticated"], who
    headers = n.get("/whoami-user", session=session).headers
    assert (headers["X-User"], headers["X-User-Name"]) == (who["user"]["id"], who["user"]["display_name"])
    return who["user"]


def profile_paths(mock):
    return [q["path"] for q in mock.recorded() if q["path"] in ("/v1/me", "/user", "/oauth2/v3/userinfo")]


def test_spotify_is_the_default(make_nginx, mock):
    n = make_nginx(server_extra=WHOAMI).start()
    assert signed_in_user(n, "alice") == {"id": "alice", "display_name": "Alice Liddell"}
    assert profile_paths(mock) == ["/v1/me"]


@pytest.mark.parametrize("claims,name", [("name=login", "bob"), ("id=id name=name", "Bob Dylan")])
def test_github_shaped_profile(make_nginx, mock, claims, name):
    # A numeric id becomes its decimal text.
    n = make_nginx(server_extra=provider(mock, "/user", claims)).start()
    assert signed_in_user(n, "bob") == {"id": str(github_user_id("bob")), "display_name": name}
    assert profile_paths(mock) == ["/user"]


def test_google_shaped_profile(make_nginx, mock):
    n = make_nginx(server_extra=provider(mock, "/oauth2/v3/userinfo", "id=sub name=name")).start()
    assert signed_in_user(n, "carol") == {"id": google_subject("carol"), "display_name": "Carol Kaye"}
    assert profile_paths(mock) == ["/oauth2/v3/userinfo"]


def test_missing_name_claim_falls_back_to_the_id(make_nginx, mock):
    n = make_nginx(server_extra=provider(mock, "/oauth2/v3/userinfo", "id=sub name=nickname")).start()
    assert signed_in_user(n, "alice") == {"id": google_subject("alice"), "display_name": google_subject("alice")}


def test_missing_id_claim_fails_the_login(make_nginx, mock):
    # Spotify's default claims ("id") against Google's shape ("sub"): no id.
    n = make_nginx(server_extra=provider(mock, "/oauth2/v3/userinfo", "")).start()
    _, r = login(n, user="alice")
    assert r.status_code == 502
    assert r.json()["error"] == "profile_unavailable"
