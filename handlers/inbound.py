"""Apply what a citizen's message asks for: new ticket, follow-up, status, help, stop, start."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from config import Line, Service
from handlers import clock, outbox, workflow
from handlers.runtime import Services
from parsers import codes, intent as intents
from parsers.lapor import tracking_id
from parsers.phone import address_for, mask, to_e164
from replies.render import date, render, state_phrase, ticket_list, typed_code
from replies.texts import EXAMPLE_CODE
from store.db import now
from store.models import Attachment, DeliveryStatus, InboundMessage, OutboundMessage, Ticket, TicketEvent, TicketState
from store.queries import contact, lock_phone, saw_on_whatsapp, set_opt_out
from store.tickets import add_ticket, text_hash, unused_code

log = logging.getLogger(__name__)
RESEND_WINDOW = timedelta(hours=24)
# A message without a code within this time after an officer's answer is read as a reply to it.
REPLY_WINDOW = timedelta(days=7)
# How many of a citizen's latest tickets CEK without a code names (three fit one SMS).
MY_TICKETS_SHOWN = 3
# A message without a code on a free-text line (on a keyword line: text without the keyword) this soon
# after the last continues its request, while nobody has reviewed it.
BURST_WINDOW = timedelta(minutes=10)
# Automatic replies a number gets at most, so that an auto-responder answering each of our replies,
# or a flood, cannot run up the office's bill one paid SMS at a time (Twilio stops only fast loops:
# 30 replies in 30 seconds, error 14107). A message over a limit is applied and kept all the same;
# its reply is written as not sent, with the reason, for the inbox to show.
LIMIT_WINDOW = timedelta(hours=24)
AUTO_REPLY_LIMIT = 20                      # in the window, STOP and START confirmations aside
HELP_LIMIT = 3                             # help texts for unreadable messages, in the window
# A help text for unreadable text, or the confirmation of text added to the request it continues,
# is not sent again this soon after the last one: the citizen has it just above.
REPEAT_AFTER = timedelta(minutes=30)
ALWAYS_SENT = {"opted_out", "opted_in"}
# Replies that give a ticket's code and deadline: asking for the answer ("Kapan dijawab?") this soon
# after one of them is not answered again (CEK, asked by name, is).
TOLD_STATE = {"ack", "status", "continued", "followup_ok"}
# A machine's answer (an away message, a carrier's notice) comes after a message of ours within this time;
# a phone switched off answers once it is on again.
MACHINE_ANSWER_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Outcome:
    """What processing one message produced, for the job to act on after commit."""
    claims: tuple = ()  # replies claimed for sending in the same transaction (gateway.sender.Claim)
    attachment_ids: tuple[int, ...] = ()


class Message(SimpleNamespace):
    """An inbound row as plain attributes. Processing fills in phone, intent, line_id and ticket_id,
    and process() writes them back in one statement (not one ORM flush per change)."""


_I = InboundMessage.__table__
# Built once: every message runs these.
_TAKE = (update(_I).where(_I.c.id == bindparam("iid"), _I.c.processed_at.is_(None))
         .values(processed_at=bindparam("now")).returning(*_I.c))
_WRITE_BACK = update(_I).where(_I.c.id == bindparam("iid")).values(
    phone=bindparam("b_phone"), intent=bindparam("b_intent"), line_id=bindparam("b_line"),
    ticket_id=bindparam("b_ticket"))


def process(services: Services, inbound_id: int) -> Outcome:
    """Process one stored inbound message, once; the changes and the reply commit together.

    The reply is claimed for sending in that same transaction, so the job can hand it
    to the provider straight after the commit.
    """
    with services.db.transaction() as s:
        row = s.execute(_TAKE, {"iid": inbound_id, "now": now()}).first()
        if row is None:
            return Outcome()  # processed already: a repeated job does nothing
        msg = Message(**row._mapping)
        outcome = _process(services, s, msg)
        s.execute(_WRITE_BACK, {"iid": msg.id, "b_phone": msg.phone, "b_intent": msg.intent,
                                "b_line": msg.line_id, "b_ticket": msg.ticket_id})
        return outcome


def _process(services: Services, s: Session, msg: Message) -> Outcome:
    """Apply one taken message in process()'s transaction."""
    msg.phone = to_e164(msg.from_address)
    line = services.settings.service.line_for(msg.channel, msg.to_address)
    if line is None:  # a gap in service.toml: the office's number is named, an operator must add it
        msg.intent = "no_line"
        log.warning("inbound %s: no service line answers %s %s (service.toml), kept unanswered",
                    msg.message_sid, msg.channel, msg.to_address)
        return Outcome()
    if msg.phone is None:  # a sender name (an operator's broadcast), not a number to answer
        msg.intent = "unreadable_sender"
        log.info("inbound %s: the sender is not a phone number, kept unanswered", msg.message_sid)
        return Outcome()
    msg.line_id = line.id
    lock_phone(s, msg.phone)
    _remember_name(s, msg)
    intent = _read(msg, line)
    released = []
    if msg.channel == "whatsapp":  # this message opens WhatsApp's window, for officers' messages too
        saw_on_whatsapp(s, msg.phone, msg.to_address, msg.received_at)
        # An officer's messages that waited for the window go now; not to a citizen taking a ticket
        # back ("Batal" as the reply to the template): they wait for the officer who closes it.
        if not isinstance(intent, intents.Withdrawal):
            released = outbox.release_held(s, to=address_for(msg.channel, msg.phone), from_=msg.to_address)
    if intent in (intents.Reminder(), intents.Withdrawal(), intents.KeepTicket()):  # no code: the phone's ticket
        # open, or for "Tidak jadi batal" its latest, which an officer may have closed meanwhile
        open_ticket = _latest(s, msg, line, open_only=not isinstance(intent, intents.KeepTicket))
        if open_ticket is not None:
            intent = type(intent)(open_ticket.code)
        elif isinstance(intent, intents.Reminder):
            closed = _latest(s, msg, line, open_only=False)
            if closed is not None:  # "Ada kabar?" after the answer: where it stands, not opened again by a question
                intent = intents.StatusCheck(closed.code)
            else:  # nothing to remind of: the text is what it would be without that reading
                intent = (intents.Help(intents.HelpReason.UNREADABLE) if line.keyword
                          else intents.NewTicket(intents.clean(msg.body)))
        else:
            intent = intents.Thanks()  # nothing to take back ("Maaf salah kirim" after a help text): kept, unanswered
    if isinstance(intent, intents.AutoReply):
        answered = _last_sent_to(s, msg)
        if answered is None:  # a machine answers and never writes first: these are someone's own words
            intent = (intents.Help(intents.HelpReason.UNREADABLE) if line.keyword
                      else intents.NewTicket(intents.clean(msg.body)))
        else:
            # On the conversation it answers, for officers to see; not the ticket's text, no answer to
            # a question, not news from the citizen (last_inbound_at stays), and no reply to a machine.
            msg.ticket_id = answered.ticket_id
    msg.intent = type(intent).__name__
    if released and isinstance(intent, (intents.NewTicket, intents.Thanks, intents.Help)):
        # The reply the template asked for ("OK"): the messages it released answer it. It joins
        # their ticket, unanswered; to a question it is no answer yet (the ticket still waits).
        ticket = s.get(Ticket, released[-1].ticket_id)
        _join(msg, ticket)
        reply = None
    else:
        reply, ticket = _apply(s, services.settings.service, msg, line, intent)
    attachments = _keep_media(s, msg, ticket)
    withheld = []
    if isinstance(intent, intents.OptIn):  # what STOP withheld follows the confirmation, which says so
        withheld = outbox.withheld_by_stop(s, to=address_for(msg.channel, msg.phone), from_=msg.to_address)
        if withheld:
            reply = ("opted_in", render("opted_in_withheld"))
    held = _held(s, msg, reply[0], intent) if reply else None
    outbound = _reply(s, msg, reply, ticket, held) if reply else None
    resent = outbox.write_again(s, withheld, "start")
    to_send = [row.id for row in released + ([outbound] if outbound and not held else []) + resent]
    claims = tuple(c for c in (services.sender.claim(s, oid) for oid in to_send) if c is not None)
    log.info("inbound %s from %s: %s", msg.message_sid, mask(msg.phone), msg.intent)
    return Outcome(claims=claims, attachment_ids=tuple(a.id for a in attachments))


def _read(msg: Message, line: Line) -> intents.Intent:
    """What the message asks for: its text parsed, a shared location read as text, its media weighed."""
    text = intents.text_with_location(msg.body, msg.params)  # where a pin points is what the citizen says
    intent = intents.parse(text, line.keyword or None)
    if _stickers_only(msg) and not text.strip():
        return intents.Thanks()  # a sticker alone is a reaction, as a thumbs-up is
    if msg.num_media and isinstance(intent, (intents.Help, intents.Thanks)):
        # A photo or document is evidence, not noise: alone, or with a greeting, thanks or
        # unreadable text, it is a new ticket.
        keyword_alone = intent == intents.Help(intents.HelpReason.EMPTY)
        return intents.NewTicket("" if keyword_alone else intents.clean(text))
    return intent


def _apply(s: Session, service: Service, msg: Message, line: Line,
           intent) -> tuple[tuple[str, str] | None, Ticket | None]:
    """Change the store as the intent asks; return (purpose, reply text) and the ticket touched."""
    awaiting = _awaiting_reply(s, service, msg, line, intent)
    if intent == intents.Help(intents.HelpReason.GREETING):
        # "Selamat pagi pak" before the reply itself, "Izin pak" after a new request: on that
        # conversation, unanswered (no help text in the middle of it), not its text; a question
        # stays waiting for what follows.
        ticket = awaiting or _being_written(s, msg, line)
        if ticket is not None:
            _join(msg, ticket)
            return None, ticket
    if awaiting is not None:
        # Thanks for an answer joins the conversation unanswered; to a question it may be the answer.
        thanks_for_answer = isinstance(intent, intents.Thanks) and awaiting.state == TicketState.TERKIRIM.value
        reply, ticket = _add_to(s, service, msg, awaiting)
        if thanks_for_answer:
            msg.intent = "Thanks"  # on the conversation, and no news that keeps the ticket open (daily.py)
        return (None if thanks_for_answer else reply), ticket
    match intent:
        case intents.NewTicket(text=text):
            return _new_ticket(s, service, msg, line, text)
        case intents.StatusCheck(code=code):
            ticket = _own_ticket(s, code, msg.phone)
            if ticket is None:
                return ("not_found", render("not_found", code=codes.display(code))), None
            msg.ticket_id = ticket.id  # in its conversation, beside the reply; no news (last_inbound_at stays)
            return _status(service, ticket), ticket
        case intents.MyTickets():
            mine = s.execute(select(Ticket.code, Ticket.state).where(Ticket.phone == msg.phone)
                             .order_by(Ticket.id.desc()).limit(MY_TICKETS_SHOWN)).all()
            if not mine:
                return ("not_found", render("no_tickets")), None
            items = ticket_list([(codes.display(code), state) for code, state in mine])
            return ("status", render("my_tickets", items=items)), None
        case intents.Reminder(code=code):  # "Kapan dijawab?": added to the ticket, answered with its state
            ticket = _own_ticket(s, code, msg.phone)
            if ticket is None:
                return ("not_found", render("not_found", code=codes.display(code))), None
            was_open = ticket.is_open
            reply, ticket = _add_to(s, service, msg, ticket)
            return (_status(service, ticket) if was_open else reply), ticket  # opened again: the new deadline
        case intents.Withdrawal(code=code):
            ticket = _own_ticket(s, code, msg.phone)
            if ticket is None:
                return ("not_found", render("not_found", code=codes.display(code))), None
            return _withdraw(s, service, msg, ticket), ticket
        case intents.KeepTicket(code=code):  # "Tidak jadi batal": it goes on, or opens again if closed meanwhile
            ticket = _own_ticket(s, code, msg.phone)
            if ticket is None:
                return ("not_found", render("not_found", code=codes.display(code))), None
            workflow.batal_dicabut(s, ticket)
            return _add_to(s, service, msg, ticket)
        case intents.FollowUp(code=code):
            ticket = _own_ticket(s, code, msg.phone)
            if ticket is None:
                return ("not_found", render("not_found", code=codes.display(code))), None
            return _add_to(s, service, msg, ticket)
        case intents.InvalidCode(code=typed):
            return ("invalid_code", render("invalid_code", code=typed_code(typed))), None
        case intents.OptOut():
            set_opt_out(s, msg.phone, True)
            return ("opted_out", render("opted_out")), None
        case intents.OptIn():  # what STOP withheld goes too, after the confirmation (_process)
            set_opt_out(s, msg.phone, False)
            return ("opted_in", render("opted_in")), None
        case intents.Thanks():
            return None, None  # kept, unanswered: a thank-you is no request and not worth a paid reply
        case intents.AutoReply():
            return None, s.get(Ticket, msg.ticket_id) if msg.ticket_id else None
        case intents.Help(reason=why):
            text = intents.clean(msg.body)
            if why is intents.HelpReason.UNREADABLE and line.keyword and text:
                if _announced(s, msg, line):  # "Saya mau lapor" got the format: this is the complaint
                    return _new_ticket(s, service, msg, line, text)
                started = None if intents.another_request(text) else _being_written(s, msg, line)
                if started is not None:  # the rest of a complaint, sent as an SMS of its own without the keyword
                    return _continue(s, service, msg, started, text)
            if line.keyword and why is intents.HelpReason.EMPTY:
                return ("help", render("help_empty", keyword=line.keyword)), None
            # The citizen's own latest code in place of the example: one who lost it gets it back.
            latest = s.scalar(select(Ticket.code).where(Ticket.phone == msg.phone, Ticket.line_id == line.id)
                              .order_by(Ticket.id.desc()).limit(1))
            code = codes.display(latest) if latest else EXAMPLE_CODE
            if not line.keyword:
                return ("help", render("help_free", service=line.name, code=code)), None
            return ("help", render("help_keyword", service=line.name, keyword=line.keyword, code=code)), None
    raise ValueError(f"unknown intent {type(intent).__name__}")  # not its text: logs carry no message bodies


def _add_to(s: Session, service: Service, msg: Message, ticket: Ticket):
    """Add the message to a ticket's conversation; a ticket waiting for the citizen resumes,
    a closed one opens again."""
    _join(msg, ticket)
    if ticket.state == TicketState.DITUNDA.value:
        workflow.lanjutkan(s, None, ticket, service, "warga membalas")
    elif not ticket.is_open:
        workflow.buka_kembali(s, ticket, service, msg.received_at)
        return ("followup_ok", render("followup_reopened", code=codes.display(ticket.code),
                                      due=date(ticket.due_at))), ticket
    return ("followup_ok", render("followup_ok", code=codes.display(ticket.code))), ticket


def _withdraw(s: Session, service: Service, msg: Message, ticket: Ticket) -> tuple[str, str]:
    """The citizen takes the ticket back: the message joins its conversation and the request shows
    in its history and the queue, for an officer to close it. A closed ticket stays closed: the
    reply gives its state."""
    _join(msg, ticket)
    msg.intent = "Withdrawal"
    if not ticket.is_open:
        return _status(service, ticket)
    workflow.minta_batal(s, ticket, service)
    return "withdrawn", render("withdrawn", code=codes.display(ticket.code))


def _join(msg: Message, ticket: Ticket) -> None:
    """Put the message in the ticket's conversation."""
    msg.ticket_id = ticket.id
    msg.intent = "FollowUp"
    ticket.last_inbound_at = msg.received_at


def _awaiting_reply(s: Session, service: Service, msg: Message, line: Line, intent) -> Ticket | None:
    """The ticket an officer recently wrote to this phone about, when this message reads as the reply.

    Only text that is not itself a command: free text on a free-text line, text without the
    keyword on a keyword line, a greeting, thanks or "ok" (which may be the answer asked
    for) on either. `NTT ...` stays a new complaint. Only a ticket
    whose messages to the citizen go out from the number this message came to: a request
    to another agency's line is that agency's, not an answer to this one's question. Not when
    the citizen has written a request since the officer wrote: text goes on with that request.
    A reply that ended a ticket's wait is followed by the rest of it, within BURST_WINDOW of it.
    """
    # "Sy mau lapor lagi, ..." is no answer to the officer's question: another request.
    free_text = isinstance(intent, intents.NewTicket) and not line.keyword and not intents.another_request(msg.body)
    unreadable = isinstance(intent, intents.Help) and intent.reason is intents.HelpReason.UNREADABLE \
        and line.keyword and msg.body.strip()
    greeting = intent == intents.Help(intents.HelpReason.GREETING)
    if not (free_text or unreadable or greeting or isinstance(intent, intents.Thanks)):
        return None
    since = msg.received_at - BURST_WINDOW
    # A reply sent in several messages: the first ended the wait, the rest follow it within minutes.
    replied = select(TicketEvent.id).where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "lanjutkan",
                                           TicketEvent.officer_id.is_(None), TicketEvent.created_at >= since).exists()
    found = s.scalar(
        select(Ticket)
        .where(Ticket.phone == msg.phone, Ticket.line_id.in_(service.answered_from(line)),
               or_(Ticket.state == TicketState.DITUNDA.value,
                   (Ticket.state == TicketState.TERKIRIM.value) & (Ticket.updated_at >= msg.received_at - REPLY_WINDOW),
                   Ticket.is_open & (Ticket.last_inbound_at >= since) & replied))
        .order_by(Ticket.updated_at.desc()).limit(1)
    )
    if found is not None and (free_text or unreadable or greeting):
        started = _being_written(s, msg, line)
        if started is not None and started.last_inbound_at > found.updated_at:
            return None  # a complaint sent after the officer's answer: this is the rest of it
    return found


def _new_ticket(s: Session, service: Service, msg: Message, line: Line, text: str):
    digest = text_hash(text) if text else ""
    if digest:
        earlier = s.scalar(
            select(Ticket)
            .where(Ticket.phone == msg.phone, Ticket.body_hash == digest, Ticket.line_id == line.id,
                   Ticket.created_at >= msg.received_at - RESEND_WINDOW)
            .order_by(Ticket.id.desc()).limit(1)
        )
        if earlier is not None:
            msg.ticket_id = earlier.id
            msg.intent = "Resend"
            return ("ack", render("ack_duplicate", code=codes.display(earlier.code),
                                  due=date(earlier.due_at))), earlier
    if not line.keyword and not intents.another_request(msg.body):
        # On a free-text line people write one request in several messages ("Selamat pagi",
        # "saya mau tanya", "bantuan PKH saya belum cair", a photo): one ticket, not one each;
        # unless the message says it is another ("Sy mau lapor lagi, ...", its text without those words).
        started = _being_written(s, msg, line)
        if started is not None:
            return _continue(s, service, msg, started, text)
    ticket = Ticket(
        code=unused_code(s), agency=line.agency, line_id=line.id, channel=msg.channel, kind=line.kind,
        phone=msg.phone, citizen_address=address_for(msg.channel, msg.phone), line_address=msg.to_address,
        citizen_name=msg.profile_name, body=text, body_hash=digest, created_at=msg.received_at,
        last_inbound_at=msg.received_at, lapor_id=tracking_id(text),
    )
    clock.start(service, ticket, msg.received_at, line.deadline)
    add_ticket(s, ticket)
    msg.ticket_id = ticket.id
    template = "ack_information" if line.kind == "informasi" else "ack_complaint"
    return ("ack", render(template, code=codes.display(ticket.code), due=date(ticket.due_at))), ticket


def _continue(s: Session, service: Service, msg: Message, ticket: Ticket, text: str):
    """Add a message to the request it continues, its text to the ticket's (so the queue and the
    search see it); the confirmation is a purpose of its own, sent once for a run of them."""
    if text:
        ticket.body = f"{ticket.body}\n{text}" if ticket.body else text
    (_, body), ticket = _add_to(s, service, msg, ticket)
    return ("continued", body), ticket


def _being_written(s: Session, msg: Message, line: Line) -> Ticket | None:
    """This phone's ticket on this line that nobody has reviewed yet and whose last message
    came less than BURST_WINDOW before this one: the request this message continues."""
    return s.scalar(
        select(Ticket)
        .where(Ticket.phone == msg.phone, Ticket.line_id == line.id, Ticket.state == TicketState.BARU.value,
               Ticket.last_inbound_at >= msg.received_at - BURST_WINDOW)
        .order_by(Ticket.id.desc()).limit(1)
    )


def _announced(s: Session, msg: Message, line: Line) -> bool:
    """Whether the phone's latest reply, less than BURST_WINDOW before this message, was the format
    sent for the keyword alone ("NTT"), INFO, a greeting or an opener alone ("Selamat pagi, saya mau
    lapor", "Izin lapor pak") or for saying another complaint was coming ("Saya mau lapor lagi"): text
    without the keyword now is the complaint, sent as the citizen understood the format. Not after the
    format sent for unreadable text, which may be a machine's answering ours."""
    latest = s.execute(
        select(OutboundMessage.purpose, InboundMessage.body)
        .outerjoin(InboundMessage, OutboundMessage.inbound_id == InboundMessage.id)
        .where(OutboundMessage.to_address == address_for(msg.channel, msg.phone),
               OutboundMessage.created_at >= msg.received_at - BURST_WINDOW)
        .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc()).limit(1)
    ).first()
    if latest is None or latest.purpose != "help" or latest.body is None:
        return False
    said = intents.parse(latest.body, line.keyword)
    return said in _ANNOUNCING or intents.another_request(latest.body)


_ANNOUNCING = tuple(intents.Help(why) for why in (intents.HelpReason.EMPTY, intents.HelpReason.ASKED,
                                                   intents.HelpReason.GREETING))


def _status(service: Service, ticket: Ticket) -> tuple[str, str]:
    """The reply that gives a ticket's state and deadline; for a closed one, how to write more instead."""
    code, state = codes.display(ticket.code), state_phrase(ticket.state)
    if not ticket.is_open:
        return "status", render("status_closed", code=code, state=state)
    # Waiting for the citizen, the deadline as it would stand if they answered now.
    return "status", render("status", code=code, state=state, due=date(clock.current_due(service, ticket, now())))


def _latest(s: Session, msg: Message, line: Line, open_only: bool = True) -> Ticket | None:
    """This phone's latest ticket on this line (open, by default)."""
    query = select(Ticket).where(Ticket.phone == msg.phone, Ticket.line_id == line.id)
    if open_only:
        query = query.where(Ticket.is_open)
    return s.scalar(query.order_by(Ticket.id.desc()).limit(1))


def _last_sent_to(s: Session, msg: Message):
    """Our latest message that went to this phone on this channel lately, as a row of its ticket_id; None
    when there is none."""
    return s.execute(
        select(OutboundMessage.ticket_id)
        .where(OutboundMessage.to_address == address_for(msg.channel, msg.phone),
               OutboundMessage.created_at >= msg.received_at - MACHINE_ANSWER_WINDOW,
               OutboundMessage.status.not_in((DeliveryStatus.SUPPRESSED.value, DeliveryStatus.HELD.value)))
        .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc()).limit(1)
    ).first()


def _own_ticket(s: Session, code: str, phone: str) -> Ticket | None:
    """Find a ticket by code, only when it was sent from this phone."""
    return s.scalar(select(Ticket).where(Ticket.code == code, Ticket.phone == phone))


def _remember_name(s: Session, msg: Message) -> None:
    if msg.profile_name:
        contact(s, msg.phone).display_name = msg.profile_name


def _media(msg: Message) -> list[tuple[int, str, str]]:
    """The files a message carries: (position, URL, content type), at most 10."""
    params = msg.params
    return [(i, params[f"MediaUrl{i}"], params.get(f"MediaContentType{i}", ""))
            for i in range(min(msg.num_media, 10)) if params.get(f"MediaUrl{i}")]


def _stickers_only(msg: Message) -> bool:
    """WhatsApp delivers a sticker as an image/webp file; photos come as JPEG."""
    types = [content_type for _, _, content_type in _media(msg)]
    return bool(types) and all(t == "image/webp" for t in types)


def _keep_media(s: Session, msg: Message, ticket: Ticket | None) -> list[Attachment]:
    found = [Attachment(inbound_id=msg.id, ticket_id=ticket.id if ticket else None, position=i,
                        source_url=url[:500], content_type=content_type[:100])
             for i, url, content_type in _media(msg)]
    if found:
        s.add_all(found)
        s.flush()
    return found


_O = OutboundMessage.__table__
# The automatic replies offered for sending to an address since a time, newest first.
_RECENT_REPLIES = (
    select(_O.c.purpose, _O.c.created_at)
    .where(_O.c.to_address == bindparam("to"), _O.c.inbound_id.is_not(None),
           _O.c.status != DeliveryStatus.SUPPRESSED.value, _O.c.created_at >= bindparam("since"))
    .order_by(_O.c.created_at.desc(), _O.c.id.desc()).limit(bindparam("most"))
)


def _held(s: Session, msg: Message, purpose: str, intent) -> str | None:
    """Why the reply to this message is not to be sent (a limit on automatic replies), or None."""
    if purpose in ALWAYS_SENT:
        return None
    moment = now()
    recent = s.execute(_RECENT_REPLIES, {"to": address_for(msg.channel, msg.phone), "since": moment - LIMIT_WINDOW,
                                         "most": AUTO_REPLY_LIMIT}).all()
    if len(recent) >= AUTO_REPLY_LIMIT:  # a loop with a machine, or a flood: an operator should know
        log.warning("inbound %s from %s: %d automatic replies in 24 hours, no more sent",
                    msg.message_sid, mask(msg.phone), AUTO_REPLY_LIMIT)
        return f"batas {AUTO_REPLY_LIMIT} balasan otomatis per 24 jam ke nomor ini tercapai"
    just_sent = recent[0].purpose if recent and recent[0].created_at >= moment - REPEAT_AFTER else None
    repeated = just_sent == purpose
    # The rest of a request or of a reply: one confirmation; a follow-up with its code typed: each.
    if repeated and (purpose == "continued" or purpose == "followup_ok" and not isinstance(intent, intents.FollowUp)):
        return "tambahan baru saja dikonfirmasi ke nomor ini"
    if purpose == "withdrawn" and repeated:  # "Batal", then "Batal ya pak": one confirmation
        return "pembatalan baru saja dikonfirmasi ke nomor ini"
    if purpose == "status" and isinstance(intent, intents.Reminder) and just_sent in TOLD_STATE:
        return "kode dan batas waktu baru saja dikirim ke nomor ini"
    if purpose == "help" and intent in (intents.Help(intents.HelpReason.UNREADABLE),
                                        intents.Help(intents.HelpReason.GREETING)):
        if repeated:
            return "petunjuk baru saja dikirim ke nomor ini"
        if sum(r.purpose == "help" for r in recent) >= HELP_LIMIT:
            return f"batas {HELP_LIMIT} petunjuk per 24 jam ke nomor ini tercapai"
    return None


def _reply(s: Session, msg: Message, reply: tuple[str, str], ticket: Ticket | None,
           held: str | None) -> OutboundMessage:
    purpose, body = reply
    row = outbox.write(s, key=f"reply:{msg.id}", purpose=purpose, channel=msg.channel,
                       to=address_for(msg.channel, msg.phone), from_=msg.to_address, body=body,
                       ticket_id=ticket.id if ticket else None, inbound_id=msg.id)
    if held:
        outbox.suppress(row, held)
        log.info("inbound %s from %s: %s reply not sent (limit on automatic replies)",
                 msg.message_sid, mask(msg.phone), purpose)
    return row
