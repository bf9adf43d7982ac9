"""What the mock reads from a request: forms, control API JSON bodies,
redirect URIs and the Authorization header's Bearer and Basic credentials."""
import base64
import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit


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
