"""Fault injection at the mock's token endpoint (token_fault in /_mock/config):
the broken answers, the padded huge body, and the paces "hang" and "drip"."""
import json
import select
import time

from support.mock_spotify.accounts import oauth_error, random_token
from support.mock_spotify.replies import NO_STORE, Reply, json_reply, token_reply

HANG_SECONDS = 60                   # longest a "hang" fault keeps a request

HUGE_BODY_SIZE = 10 * 1024 * 1024   # size of the "huge" fault's answer


TOKEN_FAULTS = frozenset({
    "500", "503", "html", "garbage", "missing_access_token", "close", "hang",
    "drip", "huge", "invalid_client", "429",
})



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


class FaultPacing:
    """MockHandler's slow and silent answers."""

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
