"""Tables: inbound and outbound messages, tickets, attachments, contacts."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.db import now


class Base(DeclarativeBase):
    pass


class TicketState(str, enum.Enum):
    BARU = "baru"
    DITELAAH = "ditelaah"
    DIDISPOSISI = "didisposisi"
    DRAF = "draf"
    MENUNGGU_PERSETUJUAN = "menunggu_persetujuan"
    DISETUJUI = "disetujui"
    TERKIRIM = "terkirim"
    DITUNDA = "ditunda"
    SELESAI = "selesai"
    DIARSIPKAN = "diarsipkan"
    DITERUSKAN = "diteruskan"


OPEN_STATES = frozenset({
    TicketState.BARU, TicketState.DITELAAH, TicketState.DIDISPOSISI, TicketState.DRAF,
    TicketState.MENUNGGU_PERSETUJUAN, TicketState.DISETUJUI, TicketState.TERKIRIM, TicketState.DITUNDA,
})


class Role(str, enum.Enum):
    LIAISON = "liaison"    # pejabat penghubung
    HEAD = "head"          # kepala biro/badan/dinas
    OFFICIAL = "official"  # pejabat yang ditugaskan
    ADMIN = "admin"


class DeliveryStatus(str, enum.Enum):
    """Outbound status; the rank says which may follow which (never backwards)."""
    HELD = "held"              # waits for the citizen to open WhatsApp's 24-hour window
    PENDING = "pending"        # stored, not yet handed to the provider
    SENDING = "sending"        # a sender holds it right now
    ACCEPTED = "accepted"
    QUEUED = "queued"
    SENT = "sent"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # not sent, its error_message says why (STOP, a limit on automatic replies)
    DELIVERED = "delivered"
    READ = "read"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    DeliveryStatus.HELD: 0, DeliveryStatus.PENDING: 0, DeliveryStatus.SENDING: 1, DeliveryStatus.ACCEPTED: 10,
    DeliveryStatus.QUEUED: 10, DeliveryStatus.SENT: 30, DeliveryStatus.UNDELIVERED: 40,
    DeliveryStatus.FAILED: 40, DeliveryStatus.SUPPRESSED: 40, DeliveryStatus.DELIVERED: 50,
    DeliveryStatus.READ: 60,
}
# Twilio's error code for a number that sent STOP; a row not sent for that reason carries it too.
OPTED_OUT_CODE = "21610"


class InboundMessage(Base):
    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    account_sid: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16))
    from_address: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164, None when unreadable
    to_address: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    profile_name: Mapped[str] = mapped_column(String(120), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # every form field as received
    received_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    intent: Mapped[str] = mapped_column(String(32), default="")
    line_id: Mapped[str] = mapped_column(String(64), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)

    __table_args__ = (Index("ix_inbound_unprocessed", "processed_at", "queued_at"),)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    agency: Mapped[str] = mapped_column(String(64))
    line_id: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24), default=TicketState.BARU.value)
    phone: Mapped[str | None] = mapped_column(String(20))
    citizen_address: Mapped[str] = mapped_column(String(64), default="")  # where answers go
    line_address: Mapped[str] = mapped_column(String(64), default="")     # where answers come from
    citizen_name: Mapped[str] = mapped_column(String(120), default="")
    citizen_home: Mapped[str] = mapped_column(String(255), default="")  # postal address, manual intake
    body: Mapped[str] = mapped_column(Text, default="")
    body_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now, onupdate=now)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When it last became Baru by arriving again: the citizen's message that opened it again, or the
    # forwarding agency's (None: since created_at).
    new_since: Mapped[datetime | None] = mapped_column(DateTime)
    # Derived from state by store.tickets.set_state, kept as a column so the open queue is one index range.
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    held_state: Mapped[str] = mapped_column(String(24), default="")  # where Ditunda returns to
    paused_at: Mapped[datetime | None] = mapped_column(DateTime)  # Ditunda since: the clock stands still
    # The stages of SP4N-LAPOR! (the line's verify and follow_up): the review due while Baru, the
    # disposition and the drafted answer due after it (handlers/clock.py).
    verify_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    follow_up_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)  # the answer sent or given, since last opened
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    instruction: Mapped[str] = mapped_column(Text, default="")   # the head's disposisi
    draft: Mapped[str] = mapped_column(Text, default="")         # the answer being prepared
    draft_author_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")   # why the head returned the draft
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    # The approval level (service.toml) the submitted draft waits at; "" where any head approves.
    approval_level: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(32), default="")  # a key of the agency's categories; "" none
    lapor_id: Mapped[str] = mapped_column(String(16), default="")  # the national SP4N-LAPOR! tracking ID; "" none
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)  # rahasia: no identity in the LAPOR! export

    __table_args__ = (
        Index("ix_ticket_resend", "phone", "body_hash", "created_at"),
        Index("ix_ticket_queue", "agency", "state", "due_at", "id"),
        Index("ix_ticket_open_queue", "agency", "is_open", "due_at", "id"),
        Index("ix_ticket_all_queue", "agency", "due_at", "id"),  # every ticket ("semua"), by deadline
        Index("ix_ticket_assignee", "assignee_id", "due_at", "id"),
        Index("ix_ticket_received", "agency", "created_at"),  # the recap book of a month
        Index("ix_ticket_lapor", "lapor_id"),  # a search by the LAPOR! tracking ID
    )


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    to_address: Mapped[str] = mapped_column(String(64))
    from_address: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # with a template: its text, as the inbox shows it
    # An approved WhatsApp template (Twilio ContentSid) sent instead of body, and its variables (JSON).
    content_sid: Mapped[str] = mapped_column(String(64), default="")
    content_variables: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    status_rank: Mapped[int] = mapped_column(Integer, default=0)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str] = mapped_column(String(16), default="")
    error_message: Mapped[str] = mapped_column(String(255), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when a send reached the provider and no answer came back: whether it went is unknown, and
    # before any new try the provider is asked for what it took since then (gateway.sender).
    unsure_since: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_outbound_status", "status", "updated_at"),
        Index("ix_outbound_to", "to_address", "created_at"),  # the limits on automatic replies
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: a scan or photo of a letter an officer attached at manual intake (source_url "")
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    source_url: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(100), default="")
    path: Mapped[str] = mapped_column(String(255), default="")  # relative to the media store
    size: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(255), default="")
    stored_at: Mapped[datetime | None] = mapped_column(DateTime)


class Contact(Base):
    """What we know of a phone number beyond its tickets: its opt-out and its name."""
    __tablename__ = "contacts"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now, onupdate=now)


class WhatsAppWindow(Base):
    """When a citizen last wrote to one of the office's WhatsApp numbers: for 24 hours after, that
    number may send them free text (WhatsApp's customer service window), whichever ticket it is about."""
    __tablename__ = "whatsapp_windows"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    line_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(DateTime)


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    agency: Mapped[str] = mapped_column(String(64), index=True)
    roles: Mapped[str] = mapped_column(String(64))  # comma-separated Role values
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164, for their notices by SMS; "" for none
    notify: Mapped[bool] = mapped_column(Boolean, default=True)  # immediate notices by SMS (handlers/notices.py)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)  # an admin's one-time password
    position: Mapped[str] = mapped_column(String(120), default="")  # jabatan, under their name on a letter
    approval_level: Mapped[str] = mapped_column(String(32), default="")  # a head's level (service.toml); "" none
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles.split(",") if r)

    def has(self, role: Role | str) -> bool:
        return Role(role) in self.role_set


class LoginSession(Base):
    """A browser an officer signed in with: its cookie carries the token, and logging out (or the
    officer being disabled) deletes the row, so a copy of the cookie opens nothing afterwards."""
    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's token
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class TicketEvent(Base):
    """The audit trail: who did what to a ticket, when, with what note."""
    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))  # None: the citizen or the system
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(24), default="")
    to_state: Mapped[str] = mapped_column(String(24), default="")
    agency: Mapped[str] = mapped_column(String(64), default="")  # the agency that held the ticket then
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    __table_args__ = (Index("ix_event_action", "action", "agency"),)  # the tickets an agency forwarded (recap)


class StateCount(Base):
    """Tickets per agency and state, kept in step by store.tickets so the queue never counts a million rows."""
    __tablename__ = "state_counts"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(24), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class Digest(Base):
    """The morning digest an officer got on a day: one a day, whoever runs the daily work."""
    __tablename__ = "digests"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # in Kupang
    body: Mapped[str] = mapped_column(Text)  # as the inbox shows it and the SMS said it
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))  # None: no phone
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Notice(Base):
    """Something that waits for an officer since a colleague's step, told by SMS at once, grouped."""
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))  # approve, returned, disposed
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)  # told (or dropped: no phone, switched off)
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))

    # The officer's last SMS; and what waits to be told, which every sweep looks for.
    __table_args__ = (Index("ix_notice_officer", "officer_id", "sent_at"), Index("ix_notice_waiting", "sent_at"))


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)


class Letter(Base):
    """An answer letter (surat jawaban) as printed: its number is the agency's next of the year, never
    given twice (the unique key; handlers/letters.py takes the next under it)."""
    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)  # the counter: 1, 2, ... in the agency's year
    number: Mapped[str] = mapped_column(String(64))  # as printed: 123/BO/XII/2026
    body: Mapped[str] = mapped_column(Text)  # the approved answer it carries
    approver_name: Mapped[str] = mapped_column(String(120), default="")
    approver_position: Mapped[str] = mapped_column(String(120), default="")
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))  # who printed it first
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    __table_args__ = (Index("ix_letter_number", "agency", "year", "seq", unique=True),)
