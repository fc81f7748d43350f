"""The local sandbox provider's phone simulator: type as a citizen, see the replies arrive."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from parsers.phone import address_for, to_e164
from store.models import InboundMessage, OutboundMessage

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox", template_folder="templates")


def _lines():
    return [line for line in current_app.extensions["gateway"].settings.service.lines if line.sandbox_to]


@bp.get("/")
def page():
    return render_template("sandbox.html", lines=_lines())


@bp.post("/messages")
def send():
    """Feed a simulated citizen message through the same ingest path as the webhook."""
    data = request.get_json(silent=True) or {}
    line = next((line for line in _lines() if line.id == data.get("line")), None)
    phone = to_e164(str(data.get("phone", "")))
    if line is None or phone is None:
        abort(400, "pilih layanan dan isi nomor ponsel yang benar")
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "ACsandbox",
        "From": address_for(line.channel, phone), "To": line.sandbox_to,
        "Body": str(data.get("body", ""))[:1600], "NumMedia": "0",
    }
    if line.channel == "whatsapp":
        params |= {"ProfileName": "Warga Sandbox", "WaId": phone.lstrip("+")}
    result = current_app.extensions["ingestor"].ingest(params)
    return jsonify(id=result.inbound_id, queued=result.queued), 202


@bp.get("/messages")
def conversation():
    """Return what went between one simulated phone and the gateway, oldest first."""
    line = next((line for line in _lines() if line.id == request.args.get("line")), None)
    phone = to_e164(request.args.get("phone", ""))
    if line is None or phone is None:
        abort(400)
    address = address_for(line.channel, phone)
    db = current_app.extensions["gateway"].db
    with db.sessions() as s:
        inbound = s.scalars(select(InboundMessage).where(InboundMessage.from_address == address)
                            .order_by(InboundMessage.id.desc()).limit(50)).all()
        outbound = s.scalars(select(OutboundMessage).where(OutboundMessage.to_address == address)
                             .order_by(OutboundMessage.id.desc()).limit(50)).all()
    items = [{"dir": "in", "at": m.received_at.isoformat(), "body": m.body} for m in inbound]
    # A reply not sent (a limit on automatic replies, STOP) says why.
    items += [{"dir": "out", "at": m.created_at.isoformat(), "body": m.body, "status": m.status,
               "note": m.error_message} for m in outbound]
    return jsonify(sorted(items, key=lambda item: item["at"]))
