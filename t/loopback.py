"""Loopback ports for the processes the tests and benchmarks start: a free
one to listen on, and waiting until a started process listens there."""
import socket
import time


def free_port():
    """A loopback port free for TCP and UDP (QUIC listens on UDP)."""
    while True:
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_for_port(port, proc, timeout):
    """Returns once 127.0.0.1:`port` accepts a connection; raises if `proc`
    exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")
