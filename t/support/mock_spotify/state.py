"""Everything the mock remembers (users, codes, tokens, configuration,
counters, request log) behind one lock."""
import secrets
import threading
import time

from support.mock_spotify.accounts import (CODE_TTL, PREDEFINED_USERS, AccessToken, AuthCode, RefreshToken,
                                           oauth_error, pkce_challenge, random_token)
from support.mock_spotify.api import ApiError


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
