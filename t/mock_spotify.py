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

The code is the package t/support/mock_spotify/, split by concern (accounts,
accounts_service, api, control, faults, state, server); this file only starts it.
"""
import sys

from support.mock_spotify.server import main

if __name__ == "__main__":
    sys.exit(main())
