"""The mock's control API (/_mock/...): the checks of POST /_mock/config and
the handler routes that read and change the mock's state."""
import math

from support.mock_spotify.faults import TOKEN_FAULTS
from support.mock_spotify.parsing import parse_json_object
from support.mock_spotify.replies import control_error, json_reply


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


class ControlRoutes:
    """MockHandler's control API routes."""

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
