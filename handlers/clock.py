"""A ticket's clock under the service standard: its deadline and its stages' (SP4N-LAPOR!'s
verification and follow-up), started at receipt or at forwarding, standing still while the ticket
waits for the citizen (Ditunda), and what an answered ticket shows instead of time left."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from config import Deadline, Service
from handlers.deadlines import due_at, extended, paused_time
from replies.render import date
from store.models import Ticket, TicketState as S

# The agency's rule (service.toml deadlines) a ticket of each channel follows once forwarded to it:
# SMS and WhatsApp are SP4N-LAPOR!'s electronic channels.
AGENCY_RULE = {"sms": "lapor", "whatsapp": "lapor"}
# A sent answer the citizen does not write about within this time closes by itself (Selesai).
AUTO_CLOSE = Deadline(10, "wd")
# The stage each state is in, and which stage's deadline a pause in it moves.
VERIFYING = (S.BARU,)
FOLLOWING_UP = (S.DITELAAH, S.DIDISPOSISI, S.DRAF)


def rule_of(service: Service, ticket: Ticket, agency: str | None = None) -> Deadline | None:
    """The rule the ticket's deadline follows at an agency (by default the one holding it): its line's
    at its line's agency; else (forwarded, or registered by hand) the agency's for its channel."""
    agency = agency or ticket.agency
    line = service.line(ticket.line_id)
    if line is not None and line.agency == agency:
        return line.deadline
    found = service.agencies.get(agency)
    return found.deadlines.get(AGENCY_RULE.get(ticket.channel, ticket.channel)) if found else None


def start(service: Service, ticket: Ticket, since: datetime, rule: Deadline | None = None) -> None:
    """Start the clock at since (receipt, a forwarding, the message that opened it again): the
    deadline by rule (by default rule_of), the verification stage where the line has one."""
    rule = rule or rule_of(service, ticket)
    if rule is not None:
        ticket.due_at = due_at(since, rule, service.holidays)
    line = service.line(ticket.line_id)
    ticket.verify_due_at = due_at(since, line.verify, service.holidays) if line and line.verify else None
    ticket.follow_up_due_at = None
    ticket.paused_at = None
    ticket.answered_at = None


def reviewed(service: Service, ticket: Ticket, moment: datetime) -> None:
    """The review is done: the follow-up stage starts, where the line has one."""
    line = service.line(ticket.line_id)
    if line is not None and line.follow_up is not None:
        ticket.follow_up_due_at = due_at(moment, line.follow_up, service.holidays)


def resume(service: Service, ticket: Ticket, moment: datetime) -> str:
    """End a pause (Ditunda): add the time paused to the deadline, and to the deadline of the stage it
    paused in; return what the history says about it ("" when nothing moved)."""
    paused, ticket.paused_at = ticket.paused_at, None
    if paused is None or moment <= paused:
        return ""
    rule = rule_of(service, ticket)
    if rule is None:
        return ""
    local = service.holidays
    ticket.due_at = extended(ticket.due_at, rule, paused_time(rule, paused, moment, local), local)
    line = service.line(ticket.line_id)
    held = S(ticket.held_state) if ticket.held_state else None
    if held in VERIFYING and line and line.verify:
        ticket.verify_due_at = extended(verify_due(service, ticket), line.verify,
                                        paused_time(line.verify, paused, moment, local), local)
    elif held in FOLLOWING_UP and line and line.follow_up and ticket.follow_up_due_at:
        ticket.follow_up_due_at = extended(ticket.follow_up_due_at, line.follow_up,
                                           paused_time(line.follow_up, paused, moment, local), local)
    counted = " pada hari kerja" if rule.unit == "wd" else ""
    return (f"waktu menunggu keterangan warga ({_duration(paused_time(rule, paused, moment, local))}{counted}) "
            f"ditambahkan: batas waktu menjadi {date(ticket.due_at)}")


def current_due(service: Service, ticket: Ticket, moment: datetime) -> datetime:
    """The deadline as it stands now: while the ticket waits for the citizen, moved by the pause so far."""
    rule = rule_of(service, ticket)
    if ticket.paused_at is None or rule is None or moment <= ticket.paused_at:
        return ticket.due_at
    return extended(ticket.due_at, rule, paused_time(rule, ticket.paused_at, moment, service.holidays),
                    service.holidays)


def verify_due(service: Service, ticket: Ticket) -> datetime | None:
    """The verification deadline; for a ticket received before the stages were kept, worked out from
    when it became new to the agency."""
    line = service.line(ticket.line_id)
    if ticket.verify_due_at is not None or line is None or line.verify is None:
        return ticket.verify_due_at
    return due_at(ticket.new_since or ticket.created_at, line.verify, service.holidays)


@dataclass(frozen=True)
class Stage:
    name: str  # "verifikasi" or "tindak lanjut"
    due: datetime


def stage(service: Service, ticket: Ticket) -> Stage | None:
    """The SP4N-LAPOR! stage the ticket is in and its deadline, when its line keeps stages."""
    state = S(ticket.state)
    if state == S.DITUNDA and ticket.held_state:
        state = S(ticket.held_state)
    if state in VERIFYING:
        due = verify_due(service, ticket)
        return Stage("verifikasi", due) if due else None
    if state in FOLLOWING_UP and ticket.follow_up_due_at is not None:
        return Stage("tindak lanjut", ticket.follow_up_due_at)
    return None


def auto_close_at(service: Service, answered_at: datetime) -> datetime:
    """When a sent answer that the citizen does not write about closes by itself."""
    return due_at(answered_at, AUTO_CLOSE, service.holidays)


def _duration(delta: timedelta) -> str:
    days, seconds = delta.days, delta.seconds
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    parts = [f"{days} hari"] if days else []
    if hours:
        parts.append(f"{hours} jam")
    if minutes and not days:
        parts.append(f"{minutes} menit")
    return " ".join(parts) or "kurang dari 1 menit"
