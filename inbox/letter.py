"""The answer letter (surat jawaban) of a ticket: numbered once (a POST), then a printable A4 page."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for

from handlers import letters, workflow
from inbox.auth import login_required
from inbox.views import CHANNEL_LABELS, bp, _services, _session
from parsers import codes
from store.db import INT_MAX
from store.models import Letter, Ticket


@bp.post("/t/<code>/surat")
@login_required
def letter_issue(code: str):
    """Number the letter of the ticket's approved answer (the same number when printed again), then show it."""
    services = _services()
    try:
        letter_id = letters.issue(services.db, g.officer.id, code, services.settings.service)
    except workflow.NotFound:
        abort(404)
    except workflow.WorkflowError as exc:
        flash(str(exc), "error")
        return redirect(url_for("inbox.ticket", code=code), 303)
    return redirect(url_for("inbox.letter_page", letter_id=letter_id), 303)


@bp.get(f"/surat/<int(max={INT_MAX}):letter_id>")
@login_required
def letter_page(letter_id: int):
    """The letter as printed: A4, the agency's letterhead, its number, the approved answer, the approver."""
    with _session() as s:
        letter = s.get(Letter, letter_id)
        if letter is None or letter.agency != g.officer.agency:
            abort(404)
        ticket = s.get(Ticket, letter.ticket_id)
    agency = _services().settings.service.agencies[letter.agency]
    return render_template("letter.html", letter=letter, t=ticket, agency=agency, display=codes.display(ticket.code),
                           dated=letters.long_date(letter.created_at), received=letters.long_date(ticket.created_at),
                           channel=CHANNEL_LABELS.get(ticket.channel, ticket.channel),
                           paragraphs=[p for p in letter.body.split("\n") if p.strip()])
