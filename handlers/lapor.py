"""The bridge to the national SP4N-LAPOR!: an export of an agency's tickets of a period, one JSON file
that follows docs/lapor-export.schema.json, for the liaison to carry into lapor.go.id.

SP4N-LAPOR! publishes no open API. The mapping of states onto its stages is STAGES, in this module
only: an adapter that calls an API later is one new module beside this one, reading export().
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Service
from parsers import codes
from replies.render import day_starts, in_kupang
from store.models import Attachment, InboundMessage, Ticket, TicketState as S

FORMAT = "ntt-gateway/lapor-export"
VERSION = 1
# A ticket's state as SP4N-LAPOR!'s stage. Ditunda (waiting for the citizen) is the stage of the state
# it returns to.
STAGES = {
    S.BARU: "belum terverifikasi",
    S.DITELAAH: "terverifikasi",
    S.DIDISPOSISI: "terdisposisi", S.DRAF: "terdisposisi", S.MENUNGGU_PERSETUJUAN: "terdisposisi",
    S.DISETUJUI: "terdisposisi",
    S.TERKIRIM: "ditindaklanjuti",
    S.SELESAI: "selesai",
    S.DIARSIPKAN: "arsip",
}
TITLE_LENGTH = 100


def classification(ticket: Ticket) -> str:
    """SP4N-LAPOR!'s classification: a request for information; what the suggestion box holds is an
    aspiration; the rest complaints."""
    if ticket.kind == "informasi":
        return "permintaan informasi"
    return "aspirasi" if ticket.channel == "kotak_saran" else "pengaduan"


def stage(ticket: Ticket) -> str:
    state = S(ticket.held_state or S.DITELAAH.value) if ticket.state == S.DITUNDA.value else S(ticket.state)
    return STAGES[state]


def title(text: str) -> str:
    """A one-line title: the text's first line, without the SMS keyword, cut at a word."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if line[:4].upper() == "NTT ":
        line = line[4:].strip()
    if len(line) <= TITLE_LENGTH:
        return line
    return line[:TITLE_LENGTH].rsplit(" ", 1)[0] + "..."


def export(s: Session, service: Service, media_dir: Path, agency: str, first: date, last: date,
           moment: datetime) -> dict:
    """The tickets the agency holds that it received from the first to the last day (WITA), oldest first."""
    start, end = day_starts(first), day_starts(last + timedelta(days=1))
    categories = service.agencies[agency].categories
    tickets = s.scalars(select(Ticket).where(Ticket.agency == agency, Ticket.created_at >= start,
                                             Ticket.created_at < end).order_by(Ticket.created_at, Ticket.id))
    return {
        "format": FORMAT, "version": VERSION,
        "agency": {"code": agency, "name": service.agencies[agency].name},
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "exported_at": _local(moment),
        "tickets": [_ticket(s, t, categories, media_dir) for t in tickets],
    }


def _ticket(s: Session, t: Ticket, categories: dict[str, str], media_dir: Path) -> dict:
    answered = t.answered_at is not None and t.state in (S.TERKIRIM.value, S.SELESAI.value)
    return {
        "code": codes.display(t.code),
        "lapor_tracking_id": t.lapor_id or None,
        "title": title(t.body),
        "text": t.body,
        "classification": classification(t),
        "category": categories.get(t.category) if t.category else None,
        "received_at": _local(t.created_at),
        "channel": t.channel,
        "location": _location(s, t),
        "attachments": _attachments(s, t, media_dir),
        "stage": stage(t),
        "answer": t.draft if answered else None,
        "answered_at": _local(t.answered_at) if answered else None,
        "confidential": t.confidential,
        "citizen": None if t.confidential else {"name": t.citizen_name or None, "phone": t.phone or None,
                                                 "address": t.citizen_home or None},
    }


def _location(s: Session, t: Ticket) -> dict | None:
    """The first location pin the citizen shared on the ticket (WhatsApp), where given."""
    for params in s.scalars(select(InboundMessage.params).where(InboundMessage.ticket_id == t.id)
                            .order_by(InboundMessage.id)):
        try:
            lat, lon = float(params.get("Latitude", "")), float(params.get("Longitude", ""))
        except (TypeError, ValueError):
            continue
        place = ", ".join(p for p in (params.get("Label", "").strip(), params.get("Address", "").strip()) if p)
        return {"latitude": lat, "longitude": lon, "place": place or None}
    return None


def _attachments(s: Session, t: Ticket, media_dir: Path) -> list[dict]:
    """The ticket's stored files: their names as the inbox downloads them, and their SHA-256."""
    found = []
    for a in s.scalars(select(Attachment).where(Attachment.ticket_id == t.id, Attachment.path != "")
                       .order_by(Attachment.id)):
        path = media_dir / a.path
        if not path.is_file():
            continue
        with path.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256")
        found.append({"name": f"lampiran-{t.code}-{a.position + 1}{path.suffix}",
                      "content_type": a.content_type.split(";")[0].strip() or None,
                      "size": a.size, "sha256": digest.hexdigest()})
    return found


def _local(moment: datetime) -> str:
    return in_kupang(moment).isoformat(timespec="seconds")
