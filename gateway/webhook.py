"""Twilio webhooks: inbound messages and status callbacks, signature-checked."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, abort, current_app, request
from twilio.request_validator import RequestValidator, compare
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import get_input_stream

from config import Settings
from gateway import metrics
from parsers.phone import split_address
from store.db import as_int

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")
MESSAGES_PATH = "/webhooks/twilio/messages"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class _Form(dict):
    """The posted fields, one value each, with the getall() that RequestValidator asks for first
    (a plain dict costs it two AttributeErrors a field: the signature took twice as long)."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


def _signed(settings: Settings, path: str, query: str, signature: str, form: _Form) -> bool:
    """Whether X-Twilio-Signature matches the public URL of this request (PUBLIC_BASE_URL + path + query)."""
    if not settings.twilio_auth_token or not signature:
        return False
    url = settings.public_base_url + path + ("?" + query if query else "")
    validator = RequestValidator(settings.twilio_auth_token)
    # Twilio signs the URL as configured in its console; validate() computes the signature twice
    # (the URL with and without its port), which only a URL written the other way needs.
    if compare(validator.compute_signature(url, form), signature) or validator.validate(url, form, signature):
        return True
    log.warning("webhook %s: bad signature, refused", form.get("MessageSid", "-"))
    return False


def _form(body: bytes) -> _Form:
    """The posted fields, read with parse_qsl: werkzeug's general form parser cost twice as much
    (about 40 us against 20). A field sent twice (Twilio never does) keeps one value and fails the check."""
    return _Form(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


class InboundWebhook:
    """POST /webhooks/twilio/messages, served in front of Flask: verify, store, queue, answer <Response/>.

    The busiest address of the gateway does without Flask's request machinery (contexts, session,
    routing, hooks, response object): 67 of its 92 us in one process, and under the same server a
    plain WSGI answer came 1.65 times as fast as a bare Flask endpoint's. The webhook's share of the
    bare endpoint's rate rose from 42% to 59% (bench/README.md). Every other request goes on to Flask.
    """

    def __init__(self, app: Flask):
        self.next = app.wsgi_app
        self.extensions = app.extensions  # the ingestor is looked up each time: a benchmark swaps it
        self.settings: Settings = app.extensions["gateway"].settings
        self.max_content_length: int = app.config["MAX_CONTENT_LENGTH"]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != MESSAGES_PATH:
            return self.next(environ, start_response)
        started = time.perf_counter()
        status, headers, body = self._answer(environ)
        metrics.WEBHOOK_SECONDS.observe(time.perf_counter() - started)
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    def _answer(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
        if environ["REQUEST_METHOD"] != "POST":
            return "405 Method Not Allowed", [("Allow", "POST"), ("Content-Type", "text/plain")], b"POST only\n"
        try:
            form = _form(get_input_stream(environ, max_content_length=self.max_content_length).read())
        except HTTPException as exc:
            return f"{exc.code} {exc.name}", [("Content-Type", "text/plain")], f"{exc.name}\n".encode()
        if not _signed(self.settings, MESSAGES_PATH, environ.get("QUERY_STRING", ""),
                       environ.get("HTTP_X_TWILIO_SIGNATURE", ""), form):
            return "403 Forbidden", [("Content-Type", "text/plain")], b"Forbidden\n"
        if not (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip("\x00"):
            # Without its id a message cannot be stored once and only once: no message at all.
            log.warning("webhook: no MessageSid, refused")
            return "400 Bad Request", [("Content-Type", "text/plain")], b"MessageSid missing\n"
        try:
            stored = self.extensions["ingestor"].ingest(form)
        except Exception:  # Twilio sees the failure and calls the line's fallback URL, if one is set
            log.exception("webhook %s: not stored", form.get("MessageSid", "-"))
            return "500 Internal Server Error", [("Content-Type", "text/plain")], b"Internal Server Error\n"
        if stored.inbound_id is not None:  # not a repeated delivery
            channel = split_address(form.get("From", ""))[0]
            line = self.settings.service.line_for(channel, form.get("To", ""))
            metrics.INBOUND.labels(channel, line.id if line else "other").inc()
        return "200 OK", [("Content-Type", "text/xml; charset=utf-8")], EMPTY_TWIML.encode()


@bp.post("/status")
def status() -> Response:
    services = current_app.extensions["gateway"]
    form = _form(request.get_data())
    if not _signed(services.settings, request.path, request.query_string.decode("latin-1"),
                   request.headers.get("X-Twilio-Signature", ""), form):
        abort(403)
    outbound_id = as_int(request.args.get("o"))  # a number no row has is absent: the sid is matched
    # Only Twilio signs, but its fields still go to the database as values that fit (no NUL, no excess).
    field = {name: form.get(name, "").replace("\x00", "")[:64]
             for name in ("MessageSid", "MessageStatus", "SmsStatus", "ErrorCode")}
    sid = field["MessageSid"]
    state = field["MessageStatus"] or field["SmsStatus"]
    matched = services.sender.apply_status(outbound_id, sid, state, field["ErrorCode"])
    if not matched:
        log.info("status %s: no outbound message matches, ignored", sid or "-")
    return Response("", status=200)
