"""Twilio webhooks: inbound messages and status callbacks, signature-checked."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator, compare

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _verified() -> None:
    """Answer 403 unless X-Twilio-Signature matches the public URL of this request."""
    settings = current_app.extensions["gateway"].settings
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.twilio_auth_token or not signature:
        abort(403)
    url = settings.public_base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    validator = RequestValidator(settings.twilio_auth_token)
    # Twilio signs the URL as configured in its console; validate() computes the signature twice
    # (the URL with and without its port), which only a URL written the other way needs.
    if not (compare(validator.compute_signature(url, request.form), signature)
            or validator.validate(url, request.form, signature)):
        log.warning("webhook %s: bad signature, refused", request.form.get("MessageSid", "-"))
        abort(403)


@bp.post("/messages")
def messages() -> Response:
    _verified()
    current_app.extensions["ingestor"].ingest(request.form.to_dict(flat=True))
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/status")
def status() -> Response:
    _verified()
    services = current_app.extensions["gateway"]
    outbound_id = request.args.get("o", type=int)
    sid = request.form.get("MessageSid", "")
    state = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    matched = services.sender.apply_status(outbound_id, sid, state, request.form.get("ErrorCode", ""))
    if not matched:
        log.info("status %s: no outbound message matches, ignored", sid or "-")
    return Response("", status=200)
