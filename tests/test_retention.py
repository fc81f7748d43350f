"""Retention (UU 27/2022): personal data leaves tickets closed longer than the period, and a citizen's
data leaves at their request; what the recap counts stays."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, text

from handlers import retention
from handlers.sweeper import _schedule_daily, sweep
from replies.render import WITA
from store.models import Attachment, InboundMessage, OutboundMessage, Role, Ticket, TicketEvent, TicketState
from store.tickets import set_state
from tests.inbox_helpers import add_officer, login

OLD = "+6281300000001"      # a complaint closed six years ago
RECENT = "+6281300000002"   # closed four years ago
OPEN = "+6281300000003"     # open for six years


def _ticket(gateway, phone: str, body: str, *, closed: bool, age_years: float) -> int:
    gateway.converse(f"NTT {body}", frm=phone)
    with gateway.services.db.transaction() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.phone == phone))
        if closed:
            set_state(s, ticket, TicketState.SELESAI)
        ticket.citizen_name = "Maria Goreti"
        ticket.updated_at = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=365 * age_years)
        inbound_id = s.scalar(select(InboundMessage.id).where(InboundMessage.ticket_id == ticket.id))
        path = f"2020-01/{ticket.id}.jpg"
        (gateway.services.settings.media_dir / "2020-01").mkdir(parents=True, exist_ok=True)
        (gateway.services.settings.media_dir / path).write_bytes(b"jpeg")
        s.add(Attachment(inbound_id=inbound_id, ticket_id=ticket.id, position=0, source_url="https://x/y",
                         content_type="image/jpeg", path=path, size=4))
        return ticket.id


def _state(gateway, ticket_id: int) -> dict:
    with gateway.services.db.transaction() as s:
        t = s.get(Ticket, ticket_id)
        messages = s.scalars(select(InboundMessage).where(InboundMessage.ticket_id == ticket_id)).all()
        replies = s.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket_id)).all()
        return {
            "ticket": (t.phone, t.citizen_address, t.citizen_name, t.body, t.state),
            "messages": [(m.from_address, m.phone, m.params != {}, m.body) for m in messages],
            "replies": [r.to_address for r in replies],
            "attachments": s.scalar(select(text("count(*)")).select_from(Attachment)
                                    .where(Attachment.ticket_id == ticket_id)),
            "events": [e.action for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id))],
        }


def test_tickets_closed_longer_than_the_period_lose_their_personal_data(gateway):
    old = _ticket(gateway, OLD, "jalan rusak di Oesapa", closed=True, age_years=6)
    recent = _ticket(gateway, RECENT, "lampu jalan mati", closed=True, age_years=4)
    still_open = _ticket(gateway, OPEN, "air PDAM keruh", closed=False, age_years=6)
    kept = {t: _state(gateway, t) for t in (recent, still_open)}
    with gateway.session() as s:
        counts = s.execute(text("SELECT agency, state, n FROM state_counts ORDER BY 1, 2")).all()
    runner = gateway.app.test_cli_runner()

    dry = runner.invoke(args=["retention", "--dry-run"])
    assert "would remove the personal data of 1 ticket(s), 1 message(s) and 1 attachment(s)" in dry.output
    assert _state(gateway, old)["ticket"][0] == OLD  # nothing removed

    done = runner.invoke(args=["retention"])
    assert done.exit_code == 0 and "removed the personal data of 1 ticket(s)" in done.output
    erased = _state(gateway, old)
    assert erased["ticket"] == (None, "", "", "jalan rusak di Oesapa", "selesai")  # the text stays, for the recap
    assert erased["messages"] == [("", None, False, "NTT jalan rusak di Oesapa")]
    assert erased["replies"] and set(erased["replies"]) == {""}
    assert erased["attachments"] == 0 and not (gateway.services.settings.media_dir / f"2020-01/{old}.jpg").exists()
    assert erased["events"][-1] == retention.ACTION
    admin = add_officer(gateway, "lia", Role.LIAISON) and gateway.app.test_client()
    login(admin, "lia")
    with gateway.session() as s:
        code = s.get(Ticket, old).code
    page = admin.get(f"/inbox/t/{code}").get_data(as_text=True)
    assert "hapus_data" not in page and "lebih dari 5 tahun" in page and OLD not in page  # its label, its note
    assert {t: _state(gateway, t) for t in (recent, still_open)} == kept
    with gateway.session() as s:
        assert s.execute(text("SELECT agency, state, n FROM state_counts ORDER BY 1, 2")).all() == counts
    again = runner.invoke(args=["retention"])  # nothing is left to remove
    assert "removed the personal data of 0 ticket(s), 0 message(s)" in again.output
    assert _state(gateway, old)["events"].count(retention.ACTION) == 1


def test_messages_that_became_no_ticket_lose_number_and_text_after_the_period(gateway):
    gateway.sms("terima kasih pak", frm=OLD)  # thanks: kept, no ticket, no reply
    gateway.drain()
    gateway.move_back(InboundMessage.received_at, timedelta(days=365 * 6))
    gateway.converse("halo", frm=RECENT)  # recent: kept as it is
    gateway.app.test_cli_runner().invoke(args=["retention"])
    with gateway.session() as s:
        rows = {m.body: (m.from_address, m.phone) for m in s.scalars(select(InboundMessage))}
    assert rows[""] == ("", None) and rows["halo"] == (RECENT, RECENT)


def test_a_citizen_is_erased_at_their_request_by_an_admin(gateway):
    closed = _ticket(gateway, OLD, "jalan rusak di Oesapa", closed=True, age_years=1)
    gateway.converse("NTT lampu jalan mati di Oebobo", frm=OLD)
    other = _ticket(gateway, RECENT, "air PDAM keruh", closed=False, age_years=0)
    admin_id = add_officer(gateway, "admin", Role.ADMIN)
    add_officer(gateway, "lia", Role.LIAISON)
    runner = gateway.app.test_cli_runner()
    refused = runner.invoke(args=["erase-citizen", "0813-0000-0001", "--by", "lia"])
    assert refused.exit_code != 0 and "not an active admin" in refused.output
    done = runner.invoke(args=["erase-citizen", "0813-0000-0001", "--by", "admin"])
    assert done.exit_code == 0, done.output
    assert "removed from 2 ticket(s)" in done.output and "still open" in done.output
    assert OLD not in done.output  # masked
    with gateway.session() as s:
        assert s.scalar(select(text("count(*)")).select_from(Ticket).where(Ticket.phone == OLD)) == 0
        assert s.scalar(select(text("count(*)")).select_from(InboundMessage).where(InboundMessage.phone == OLD)) == 0
        event = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == closed,
                                                    TicketEvent.action == retention.ACTION)).one()
        assert event.officer_id == admin_id and "permintaan warga" in event.note
    assert _state(gateway, other)["ticket"][0] == RECENT


def test_the_worker_runs_the_daily_work_through_rqs_scheduler(gateway):
    """Retention every night at 02:00 WITA, the service standard's clock every morning at 07:30."""
    queues = gateway.services.queues
    registry = ScheduledJobRegistry(queue=queues.inbound)
    sweep(gateway.services)
    sweep(gateway.services)  # every worker's sweeper asks: one run of each is scheduled
    jobs = {"daily-handlers-retention-daily": (2, 0), "daily-handlers-daily-run": (7, 30)}
    assert sorted(registry.get_job_ids()) == sorted(jobs)
    for job_id, hour in jobs.items():
        at = registry.get_scheduled_time(job_id).astimezone(WITA)
        assert (at.hour, at.minute) == hour and at - datetime.now(WITA) <= timedelta(days=1)

    old = _ticket(gateway, OLD, "jalan rusak di Oesapa", closed=True, age_years=6)
    answered = _ticket(gateway, RECENT, "air PDAM keruh", closed=False, age_years=0)
    with gateway.services.db.transaction() as s:  # sent a month ago, answered three weeks ago, not a word since
        ticket = s.get(Ticket, answered)
        set_state(s, ticket, TicketState.TERKIRIM)
        ticket.answered_at = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=21)
        for message in s.scalars(select(InboundMessage).where(InboundMessage.ticket_id == answered)):
            message.received_at -= timedelta(days=30)
    for job_id in jobs:
        registry.remove(job_id, delete_job=True)
    _schedule_daily(queues, datetime(2026, 12, 6, 1, 0, tzinfo=WITA))  # runs due since yesterday
    SimpleWorker(queues.all, connection=queues.redis).work(burst=True, with_scheduler=True)
    assert _state(gateway, old)["ticket"][0] is None
    assert _state(gateway, answered)["ticket"][4] == TicketState.SELESAI.value
    sweep(gateway.services)  # the runs ended: the next ones are scheduled
    assert sorted(registry.get_job_ids()) == sorted(jobs)
