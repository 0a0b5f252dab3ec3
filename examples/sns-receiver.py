#!/usr/bin/env python3
"""A tiny SNS HTTP endpoint for the README tour: prints every notification it is sent and
confirms subscriptions by visiting their SubscribeURL, as an SNS HTTP/S endpoint must.

    python3 examples/sns-receiver.py [PORT]      # default 9000, listens on 127.0.0.1
"""
import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9000


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


print("sns-receiver listening on 127.0.0.1:%d" % PORT, flush=True)
HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
