"""The mock's HTTP server: one keep-alive HTTP/1.1 handler that records
requests and routes them to the accounts service, Web API and control API, a
server with a real listen backlog, and the command line (t/mock_spotify.py)."""
import argparse
import re
import signal
import socket
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from support.mock_spotify.accounts_service import DEFAULT_CONSENT_HINT, AccountsRoutes
from support.mock_spotify.api import OTHER_PROFILES, ApiRoutes
from support.mock_spotify.control import ControlRoutes
from support.mock_spotify.faults import FaultPacing
from support.mock_spotify.replies import error_page, json_reply
from support.mock_spotify.state import MockState

MAX_BODY = 1024 * 1024              # largest request body accepted
IDLE_TIMEOUT = 75                   # seconds an idle keep-alive connection stays


class BadRequest(Exception):
    """A request whose body cannot be read; answered and the connection closed."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class MockHandler(AccountsRoutes, ApiRoutes, ControlRoutes, FaultPacing, BaseHTTPRequestHandler):
    """Reads, records and routes each request; the routes themselves are the
    mixins of accounts_service, api, control and faults."""

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
    return serve_until_stopped(MockServer((args.host, args.port), state, args.verbose, args.consent_hint),
                               "mock_spotify", args.host)


def serve_until_stopped(server, name, host):
    """Serves until SIGTERM or SIGINT, after saying where (the line the
    tests and the demo wait for)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _raise_stop)
    shown_host = f"[{host}]" if ":" in host else host
    print(f"{name} listening on http://{shown_host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except Stop:
        pass
    finally:
        server.server_close()
    return 0
