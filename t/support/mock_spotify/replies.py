"""What the mock answers with: the Reply record, JSON and error answers, and
the Spotify-looking HTML pages."""
import html
import json
import string
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Reply:
    """An answer; pace is "normal", "drip" (one byte a second), "close"
    (drop the connection unanswered) or "hang" (never answer)."""
    status: int = 200
    body: object = b""                  # bytes, or a PaddedJson streamed in chunks
    content_type: Optional[str] = "application/json"
    headers: list = field(default_factory=list)
    pace: str = "normal"


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
