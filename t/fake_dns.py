#!/usr/bin/python3
"""A DNS server on 127.0.0.1 (UDP) that says every name is 127.0.0.1: for
nginx's `resolver`, so the template's `server api.spotify.com:443 resolve`
(nginx 1.27.3 and later) runs as shipped, only its port changed
(t/integration/test_production_conf.py).

A queries get one A record, 127.0.0.1 (TTL 1 s, so nginx keeps asking);
every other type an empty NOERROR answer. Each question is logged as one
JSON line to --log: {"name": "api.spotify.com", "type": 1}.

  fake_dns.py --log queries.jsonl
Prints "listening on 127.0.0.1:P" once it answers.
"""
import argparse
import json
import socket
import struct
import sys

TYPE_A = 1


def question(packet):
    """(name, type, end offset) of the first question."""
    labels, offset = [], 12
    while packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1:offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    qtype, _qclass = struct.unpack("!HH", packet[offset + 1:offset + 5])
    return ".".join(labels), qtype, offset + 5


def answer(packet):
    name, qtype, end = question(packet)
    (query_id,) = struct.unpack("!H", packet[:2])
    records = []
    if qtype == TYPE_A:
        # A pointer to the question's name, A, IN, TTL 1, 4 bytes: 127.0.0.1.
        records.append(struct.pack("!HHHIH", 0xC00C, TYPE_A, 1, 1, 4) + socket.inet_aton("127.0.0.1"))
    header = struct.pack("!HHHHHH", query_id, 0x8180, 1, len(records), 0, 0)
    return name, qtype, header + packet[12:end] + b"".join(records)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    log = open(args.log, "a", buffering=1)
    print(f"listening on 127.0.0.1:{sock.getsockname()[1]}", flush=True)
    while True:
        packet, peer = sock.recvfrom(512)
        try:
            name, qtype, reply = answer(packet)
        except (IndexError, struct.error):
            continue  # not a query we understand
        log.write(json.dumps({"name": name, "type": qtype}) + "\n")
        sock.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main())
