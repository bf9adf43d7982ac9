#!/usr/bin/python3
"""A fake api.spotify.com over TLS, for the production configuration's tests
(t/integration/test_production_conf.py) and benchmark (bench/tls_upstream.py).

HTTP/1.1 with keep-alive, one thread per connection, a real listen backlog.
Every connection gets an id; each TLS handshake and each request is logged
as one JSON line to --log, flushed at once:
  {"event": "handshake", "conn": 3, "tls": "TLSv1.3", "sni": "api.spotify.com"}
  {"event": "handshake_failed", "conn": 4, "error": "..."}
  {"event": "request", "conn": 3, "n": 2, "method": "GET", "path": "/v1/me",
   "version": "HTTP/1.1", "host": ..., "authorization": ..., "connection": ..., "cookie": ...}
(n: the request's number on its connection, like nginx's $connection_requests).
Every request is answered 200 with a small JSON body.

  tls_api.py --port P --cert chain.pem --key key.pem --log requests.jsonl [--tls 1.2|1.3|both]
Prints "listening on 127.0.0.1:P" once it accepts connections.
"""
import argparse
import itertools
import json
import socketserver
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler

BODY = b'{"id":"alice","display_name":"Alice Liddell","type":"user","product":"premium"}'
VERSIONS = {"1.2": (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2),
            "1.3": (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3),
            "both": (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)}


class Log:
    def __init__(self, path):
        self.file = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, **event):
        with self.lock:
            self.file.write(json.dumps(event) + "\n")
            self.file.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.requests_on_connection += 1
        self.server.log.write(event="request", conn=self.conn_id, n=self.requests_on_connection,
                              method=self.command, path=self.path, version=self.request_version,
                              host=self.headers.get("Host"), authorization=self.headers.get("Authorization"),
                              connection=self.headers.get("Connection"), cookie=self.headers.get("Cookie"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, *args):
        pass  # the JSON log is the record


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the listen backlog

    def __init__(self, port, context, log):
        self.context, self.log, self.ids = context, log, itertools.count(1)
        super().__init__(("127.0.0.1", port), Handler)

    def finish_request(self, request, client_address):
        conn_id = next(self.ids)
        try:
            tls = self.context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            tls.settimeout(30)
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            self.log.write(event="handshake_failed", conn=conn_id, error=str(e))
            return
        self.log.write(event="handshake", conn=conn_id, tls=tls.version(), sni=getattr(tls, "sni_name", None))
        handler = Handler.__new__(Handler)
        handler.conn_id, handler.requests_on_connection = conn_id, 0
        try:
            Handler.__init__(handler, tls, client_address, self)
        except OSError:
            pass  # the client went away
        finally:
            try:
                tls.close()
            except OSError:
                pass


def remember_sni(tls_socket, server_name, _context):
    tls_socket.sni_name = server_name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls", choices=sorted(VERSIONS), default="both")
    args = ap.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version, context.maximum_version = VERSIONS[args.tls]
    context.load_cert_chain(args.cert, args.key)
    server = Server(args.port, context, Log(args.log))
    context.sni_callback = remember_sni
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
