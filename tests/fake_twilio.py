"""A local HTTP server that speaks the parts of the Twilio REST API the gateway uses.

It checks basic auth, answers Message JSON, lists messages (by To, newest first), serves media
files, and can be told to fail the next requests with 500, 429, a timeout, a dropped connection,
a message taken but answered late, or 400 and a Twilio error code.
"""
from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")
_MEDIA_LIST = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages/(?P<sid>SM\w+)/Media\.json")


@dataclass
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str
    messaging_service_sid: str
    status_callback: str
    params: dict
    created: datetime | None = None


@dataclass
class Failure:
    status: int          # HTTP status; 0 means: never answer in time; TAKEN_LATE, DROPPED below
    code: int | None = None
    message: str = ""


TAKEN_LATE = -1  # take the message, then answer only after the stall (the client has given up)
DROPPED = -2     # close the connection without reading the request or answering


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that gave up on a stalled answer closed its end: nothing to report."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str, *, stall_seconds: float = 3.0):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.stall_seconds = stall_seconds
        self.messages: list[SentMessage] = []
        self.media: dict[str, tuple[bytes, str, bool]] = {}
        self.media_requests: list[dict] = []
        self.failures: deque[Failure] = deque()
        self.outage: Failure | None = None  # while set, every API call (not media) answers this
        self.attempts = 0  # every create request, answered or not
        self.received: list[dict] = []  # messages citizens sent, as the API lists them
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> "FakeTwilio":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, *failures: Failure) -> None:
        with self.lock:
            self.failures.extend(failures)

    def add_media(self, name: str, data: bytes, content_type: str, *, cut_off: bool = False) -> str:
        """Serve a file; cut_off: announce more bytes than are sent, then close (a dropped download)."""
        self.media[name] = (data, content_type, cut_off)
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/MM1/Media/{name}"

    def receive(self, from_: str, to: str, body: str, *, media: tuple[str, ...] = (),
                sent: datetime | None = None, sid: str | None = None) -> str:
        """Keep a message as received from a citizen (listed by GET Messages.json); media: added names."""
        sid = sid or "SM" + uuid.uuid4().hex
        self.received.append({"sid": sid, "from": from_, "to": to, "body": body, "media": media,
                              "sent": sent or datetime.now(timezone.utc)})
        return sid

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until at least count messages were accepted."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True

    def to(self, address: str) -> list[SentMessage]:
        return [m for m in self.messages if m.to == address]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms delayed-ACK stall

            def log_message(self, *args):  # keep test output quiet
                pass

            def _authorized(self) -> bool:
                header = self.headers.get("Authorization", "")
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                return header == f"Basic {expected}"

            def _send(self, status: int, payload: dict | bytes, content_type: str = "application/json"):
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, code: int | None, message: str):
                self._send(status, {"code": code, "message": message, "status": status,
                                    "more_info": f"https://www.twilio.com/docs/errors/{code}"})

            def _list(self, path: str):
                """Messages.json (the received ones, filtered by DateSent>) and a message's Media.json."""
                account = f"/2010-04-01/Accounts/{fake.account_sid}"
                url, _, query = path.partition("?")
                media = _MEDIA_LIST.match(url)
                if media:
                    found = next(m for m in fake.received if m["sid"] == media.group("sid"))
                    items = [{"sid": f"ME{i}", "account_sid": fake.account_sid, "parent_sid": found["sid"],
                              "content_type": fake.media[name][1],
                              "uri": f"{account}/Messages/{found['sid']}/Media/{name}.json"}
                             for i, name in enumerate(found["media"])]
                    return self._send(200, {"media_list": items, "next_page_uri": None, "page": 0, "page_size": 50})
                after = parse_qs(query).get("DateSent>", [""])[0]
                since = datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
                items = [{"sid": m["sid"], "account_sid": fake.account_sid, "from": m["from"], "to": m["to"],
                          "body": m["body"], "num_media": str(len(m["media"])), "direction": "inbound",
                          "status": "received", "date_sent": m["sent"].strftime("%a, %d %b %Y %H:%M:%S +0000"),
                          "uri": f"{account}/Messages/{m['sid']}.json"}
                         for m in fake.received if since is None or m["sent"] >= since]
                items += [{"sid": m.sid, "account_sid": fake.account_sid, "from": m.from_, "to": m.to,
                           "body": m.body, "num_media": "0", "direction": "outbound-api", "status": "sent",
                           "date_created": m.created.strftime("%a, %d %b %Y %H:%M:%S +0000") if m.created else None}
                          for m in fake.messages]  # what the gateway sent is listed too
                to = parse_qs(query).get("To", [""])[0]
                if to:
                    items = [item for item in items if item["to"] == to][::-1]  # newest first, as Twilio lists
                return self._send(200, {"messages": items, "next_page_uri": None, "page": 0, "page_size": 50})

            def do_GET(self):
                if self.path.split("?")[0].endswith(".json"):
                    if not self._authorized():
                        return self._error(401, 20003, "Authenticate")
                    if fake.outage is not None:
                        return self._error(fake.outage.status, fake.outage.code, fake.outage.message)
                    return self._list(self.path)
                name = self.path.rsplit("/", 1)[-1]
                fake.media_requests.append({"path": self.path, "authorized": self._authorized()})
                if not self._authorized():
                    return self._error(401, 20003, "Authenticate")
                if name not in fake.media:
                    return self._error(404, 20404, "Not found")
                data, content_type, cut_off = fake.media[name]
                if not cut_off:
                    return self._send(200, data, content_type)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data) * 2))
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

            def do_POST(self):
                with fake.lock:
                    dropped = fake.failures and fake.failures[0].status == DROPPED
                    if dropped:
                        fake.failures.popleft()
                        fake.attempts += 1
                if dropped:
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                match = _MESSAGES.match(self.path)
                if not match:
                    return self._error(404, 20404, "Not found")
                if not self._authorized() or match.group("account") != fake.account_sid:
                    return self._error(401, 20003, "Authenticate")
                with fake.lock:
                    fake.attempts += 1
                    failure = fake.outage or (fake.failures.popleft() if fake.failures else None)
                if failure is not None and failure.status != TAKEN_LATE:
                    if failure.status == 0:
                        time.sleep(fake.stall_seconds)
                        return self._error(504, None, "stalled on purpose")
                    return self._error(failure.status, failure.code, failure.message or "failure on purpose")
                if "To" not in form or not (form.get("From") or form.get("MessagingServiceSid")):
                    return self._error(400, 21604, "A 'To' and a 'From' or 'MessagingServiceSid' are required")
                if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
                    return self._error(400, 21619, "A text message body, media URL or ContentSid is required")
                sid = "SM" + uuid.uuid4().hex
                created = datetime.now(timezone.utc)
                message = SentMessage(sid, form["To"], form.get("From", ""), form.get("Body", ""),
                                      form.get("MessagingServiceSid", ""), form.get("StatusCallback", ""), form,
                                      created)
                if failure is not None:  # TAKEN_LATE: kept at once, answered after the client gave up
                    with fake.arrived:
                        fake.messages.append(message)
                        fake.arrived.notify_all()
                    time.sleep(fake.stall_seconds)
                    self.close_connection = True  # the client is gone: nobody reads the answer
                    return
                now = created.strftime("%a, %d %b %Y %H:%M:%S +0000")
                self._send(201, {
                    "sid": sid, "account_sid": fake.account_sid, "to": message.to, "from": message.from_ or None,
                    "messaging_service_sid": message.messaging_service_sid or None, "body": message.body,
                    "status": "queued", "num_segments": "1", "num_media": "0", "direction": "outbound-api",
                    "api_version": "2010-04-01", "price": None, "price_unit": "USD", "error_code": None,
                    "error_message": None, "date_created": now, "date_updated": now, "date_sent": None,
                    "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}.json",
                    "subresource_uris": {"media": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}/Media.json"},
                })
                if failure is None:
                    with fake.arrived:
                        fake.messages.append(message)
                        fake.arrived.notify_all()

        return Handler


def main() -> None:
    """Run the fake on its own (for benchmarks); GET /_stats tells what arrived and when, GET
    /_arrivals when each number's first message did."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    args = parser.parse_args()
    fake = FakeTwilio(args.account_sid, args.auth_token)
    fake.server.server_close()
    fake.server = _Server(("127.0.0.1", args.port), _with_stats(fake))
    fake.server.daemon_threads = True
    fake.server.serve_forever()


def _with_stats(fake: FakeTwilio):
    base = fake._handler()
    arrivals: list[float] = []
    original = base.do_POST

    class Handler(base):
        def do_GET(self):
            if self.path == "/_stats":
                return self._send(200, {"count": len(arrivals), "first": arrivals[0] if arrivals else None,
                                        "last": arrivals[-1] if arrivals else None})
            if self.path == "/_arrivals":  # when each number's first message arrived (epoch seconds)
                with fake.lock:
                    first: dict[str, float] = {}
                    for m in fake.messages:
                        first.setdefault(m.to, m.created.timestamp())
                return self._send(200, first)
            return super().do_GET()

        def do_POST(self):
            original(self)
            arrivals.append(time.time())

    return Handler


if __name__ == "__main__":
    main()
