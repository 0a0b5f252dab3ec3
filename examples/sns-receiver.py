#!/usr/bin/env python3
"""A tiny SNS HTTP endpoint for the README tour: prints every notification it is sent and
confirms subscriptions by visiting their SubscribeURL, as an SNS HTTP/S endpoint must.

    python3 examples/sns-receiver.py [PORT] [--tls]   # default 9000, listens on 127.0.0.1

--tls serves HTTPS with the development certificate in certs/ (it names localhost and 127.0.0.1,
signed by certs/dev-ca.pem, which `make serve` trusts for HTTPS endpoints).
"""
import json
import os
import ssl
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

ARGS = [a for a in sys.argv[1:] if a != "--tls"]
TLS = "--tls" in sys.argv[1:]
PORT = int(ARGS[0]) if ARGS else 9000
CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "certs")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as SNS (and Herald) expect

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        kind = self.headers.get("x-amz-sns-message-type")
        if kind == "SubscriptionConfirmation":
            document = json.loads(body)
            urllib.request.urlopen(document["SubscribeURL"]).read()
            print("confirmed subscription to", document["TopicArn"], flush=True)
        elif kind == "Notification" and self.headers.get("x-amz-sns-rawdelivery") == "true":
            print("raw notification:", body.decode(errors="replace"), flush=True)
        elif kind == "Notification":
            document = json.loads(body)
            print("notification", document["MessageId"] + ":", document["Message"], flush=True)
        else:
            print(kind, body.decode(errors="replace"), flush=True)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", PORT), Handler)
if TLS:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(CERTS, "dev-server.pem"), os.path.join(CERTS, "dev-server-key.pem"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("sns-receiver listening on %s://127.0.0.1:%d" % ("https" if TLS else "http", PORT), flush=True)
server.serve_forever()
