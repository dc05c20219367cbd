#!/usr/bin/env python3
"""A loopback HTTP proxy in front of the test object stores that injects the failures real stores have.

usage: fault_proxy.py --upstream URL --port-file FILE [--log FILE] [--fail-first N] [--fail-status 503]
                      [--outage-after N --outage-seconds S] [--reset-first N]
                      [--token-public-key PEM [--require-bearer]]

  --fail-first N       answer the first N requests with --fail-status (S3-style XML error body) without
                       forwarding them (503 SlowDown, 500 InternalError, 429 SlowDown, or any 4xx)
  --reset-first N      close the first N connections without any answer (a dropped connection)
  --stall-first N      hold the first N requests for --stall-seconds before forwarding (a timeout)
  --corrupt-first N    flip one byte in the body of the first N PUT/POST requests with a body, then forward
                       them (damage on the way: the store must refuse it, or the client must notice)
  --outage-after N     after N forwarded requests, stop listening for S seconds (connections refused),
                       then listen again on the same port: a store that went away mid-batch and came back
  --token-public-key   also act as an OAuth2 token endpoint at /token: verify the RS256 JWT assertion of a
                       service account with this public key (openssl) and hand out a bearer token
  --require-bearer     refuse (401) store requests that do not carry a token this proxy handed out
Requests are forwarded unchanged (Host header included, so SigV4 signatures stay valid). Every request
is logged as "METHOD PATH STATUS" to --log. The chosen port is written to --port-file once listening.
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

args = None
lock = threading.Lock()
counts = {"requests": 0, "forwarded": 0, "resets": 0, "corrupted": 0}
outage = threading.Event()
down = threading.Event()
tokens = set()

ERRORS = {500: "InternalError", 502: "BadGateway", 503: "SlowDown", 504: "GatewayTimeout", 429: "SlowDown"}


def log(line):
    if args.log:
        with lock, open(args.log, "a") as f:
            f.write(line + "\n")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_jwt(assertion, audience):
    """Returns the claims when the RS256 signature verifies with the public key, else raises ValueError."""
    header_b64, claims_b64, signature_b64 = assertion.split(".")
    header = json.loads(b64url_decode(header_b64))
    claims = json.loads(b64url_decode(claims_b64))
    if header.get("alg") != "RS256":
        raise ValueError("alg is not RS256")
    with tempfile.TemporaryDirectory() as tmp:
        data, sig = os.path.join(tmp, "data"), os.path.join(tmp, "sig")
        open(data, "wb").write((header_b64 + "." + claims_b64).encode())
        open(sig, "wb").write(b64url_decode(signature_b64))
        result = subprocess.run(["openssl", "dgst", "-sha256", "-verify", args.token_public_key, "-signature", sig,
                                 data], capture_output=True)
        if result.returncode != 0:
            raise ValueError("invalid JWT signature")
    if claims.get("aud") != audience:
        raise ValueError("aud is %r, expected %r" % (claims.get("aud"), audience))
    if "devstorage" not in claims.get("scope", ""):
        raise ValueError("scope lacks devstorage")
    if not claims.get("iat", 0) <= time.time() + 60 < claims.get("exp", 0) + 60:
        raise ValueError("token request outside iat..exp")
    return claims


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, body, content_type="application/xml", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log("%s %s %d" % (self.command, self.path, status))

    def handle_any(self):
        body = self.body()
        if down.is_set():  # a kept-alive connection during an outage: drop it, as a dead server would
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        with lock:
            counts["requests"] += 1
            number = counts["requests"]
        if number <= args.reset_first:
            log("%s %s RESET" % (self.command, self.path))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if number <= args.reset_first + args.fail_first:
            code = ERRORS.get(args.fail_status, "Injected")
            self.reply(args.fail_status, ("<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>injected by "
                                          "fault_proxy</Message></Error>" % code).encode())
            return
        if number <= args.reset_first + args.fail_first + args.stall_first:
            log("%s %s STALL" % (self.command, self.path))
            time.sleep(args.stall_seconds)
        if body and self.command in ("PUT", "POST") and self.path.split("?")[0] != "/token":
            with lock:
                corrupt = counts["corrupted"] < args.corrupt_first
                counts["corrupted"] += corrupt
            if corrupt:
                middle = len(body) - max(1, len(body) // 3)  # inside the file's bytes, past any multipart header
                body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
                log("%s %s CORRUPTED" % (self.command, self.path))
        if args.token_public_key and self.path.split("?")[0] == "/token":
            self.token(body)
            return
        if args.require_bearer:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in tokens:
                self.reply(401, json.dumps({"error": {"code": 401, "message": "Invalid Credentials"}}).encode(),
                           "application/json")
                return
        self.forward(body)
        with lock:
            counts["forwarded"] += 1
            if args.outage_after and counts["forwarded"] == args.outage_after:
                outage.set()

    def token(self, body):
        form = urllib.parse.parse_qs(body.decode())
        audience = "http://127.0.0.1:%d/token" % self.server.server_address[1]
        try:
            if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
                raise ValueError("bad grant_type")
            verify_jwt(form["assertion"][0], audience)
        except (ValueError, KeyError) as e:
            self.reply(400, json.dumps({"error": "invalid_grant", "error_description": str(e)}).encode(),
                       "application/json")
            return
        token = "test-token-" + secrets.token_hex(8)
        tokens.add(token)
        self.reply(200, json.dumps({"access_token": token, "expires_in": 3600, "token_type": "Bearer"}).encode(),
                   "application/json")

    def forward(self, body):
        up = urllib.parse.urlsplit(args.upstream)
        connection = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body if body else None)
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        connection.close()
        log("%s %s %d" % (self.command, self.path, response.status))

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_any


class Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout test) leaves a broken pipe: expected here


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--reset-first", type=int, default=0)
    parser.add_argument("--stall-first", type=int, default=0)
    parser.add_argument("--stall-seconds", type=float, default=5)
    parser.add_argument("--corrupt-first", type=int, default=0)
    parser.add_argument("--outage-after", type=int, default=0)
    parser.add_argument("--outage-seconds", type=float, default=3)
    parser.add_argument("--token-public-key")
    parser.add_argument("--require-bearer", action="store_true")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.port_file + ".tmp", args.port_file)
    while True:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        if not args.outage_after:
            thread.join()
            return
        outage.wait()
        down.set()
        server.shutdown()
        server.server_close()
        log("OUTAGE %.1fs" % args.outage_seconds)
        time.sleep(args.outage_seconds)
        args.outage_after = 0  # one outage per run
        server = Server(("127.0.0.1", port), Handler)
        down.clear()
        log("BACK")


if __name__ == "__main__":
    sys.exit(main())
