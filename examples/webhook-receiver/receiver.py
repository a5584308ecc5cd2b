#!/usr/bin/env python3
"""A partner's webhook receiver for compliance-graph, in Python with the standard library only.

A delivery is accepted only when X-Compliance-Signature is a valid HMAC-SHA256 of the raw body made
with the endpoint's secret at a time within the tolerance; each event is handled once however often
it is delivered (deliveries are at least once: deduplicate by the event id).

    python3 receiver.py --secret whsec_... --cert cert.pem --key key.pem [--port 8443]

Prints one JSON line per request: {"result": "accepted" | "duplicate" | "rejected", ...}.
"""
import argparse
import hashlib
import hmac
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


# region verify-signature
def verify_signature(secret, header, raw_body, now_seconds, tolerance_seconds=TOLERANCE_SECONDS):
    """Whether header ("t=<unix seconds>,v1=<hex>") signs raw_body (bytes) with secret within the tolerance."""
    if not header:
        return False
    parts = [part.strip().split("=", 1) for part in header.split(",")]
    timestamps = [value for key, value in (p for p in parts if len(p) == 2) if key == "t"]
    if not timestamps or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs(now_seconds - timestamp) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return any(key == "v1" and hmac.compare_digest(value, expected) for key, value in (p for p in parts if len(p) == 2))
# endregion verify-signature


class Deduplicator:
    """Event ids already handled, kept twice the tolerance (older deliveries fail the signature check).
    Use a database table instead when several receivers share the endpoint."""

    def __init__(self, tolerance_seconds):
        self.tolerance = tolerance_seconds
        self.handled = {}
        self.lock = threading.Lock()

    def first_time(self, event_id, now_seconds):
        with self.lock:
            for seen_id, seen_at in list(self.handled.items()):
                if now_seconds - seen_at > 2 * self.tolerance:
                    del self.handled[seen_id]
            if event_id in self.handled:
                return False
            self.handled[event_id] = now_seconds
            return True


def make_handler(secret, deduplicator, handle_event):
    class WebhookHandler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw_body = self.rfile.read(int(self.headers.get("content-length", 0)))
            now = int(time.time())
            if not verify_signature(secret, self.headers.get("x-compliance-signature"), raw_body, now):
                report({"result": "rejected", "reason": "bad signature"})
                return self.answer(400, b"bad signature")
            event = json.loads(raw_body)
            if not deduplicator.first_time(event["id"], now):
                report({"result": "duplicate", "id": event["id"]})
                return self.answer(200, b"duplicate")
            handle_event(event)
            report({"result": "accepted", "id": event["id"], "type": event["type"]})
            self.answer(200, b"ok")

        def answer(self, status, body):
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass  # one JSON line per request on stdout instead

    return WebhookHandler


def report(line):
    print(json.dumps(line), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    args = parser.parse_args()
    handler = make_handler(args.secret, Deduplicator(TOLERANCE_SECONDS), lambda event: None)
    server = ThreadingHTTPServer((args.host, args.port), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    report({"listening": server.server_address[1]})
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
