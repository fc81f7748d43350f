"""Make an inbound message safe: store it once, queue it, nothing slow."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from parsers.phone import mask, split_address, to_e164
from store.db import Database, now
from store.models import InboundMessage
from store.queues import Queues

log = logging.getLogger(__name__)
_INSERT = InboundMessage.__table__.insert().returning(InboundMessage.__table__.c.id)


@dataclass(frozen=True)
class Ingested:
    inbound_id: int | None  # None: a repeated delivery of a message already stored
    queued: bool


def ingest(db: Database, queues: Queues, params: Mapping[str, str]) -> Ingested:
    """Store a provider's inbound message (unique by MessageSid) and queue its processing."""
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or ""
    channel, _ = split_address(params.get("From", ""))
    stamp = now()
    try:
        num_media = int(params.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    try:
        with db.write_lock, db.engine.begin() as conn:  # Core, not the ORM: this is the hot path of every webhook
            inbound_id = conn.execute(_INSERT, dict(
                message_sid=sid,
                account_sid=params.get("AccountSid", ""),
                channel=channel,
                from_address=params.get("From", "")[:64],
                phone=to_e164(params.get("From", "")),
                to_address=params.get("To", "")[:64],
                body=params.get("Body", ""),
                num_media=num_media,
                profile_name=params.get("ProfileName", "")[:120],
                params=dict(params),
                received_at=stamp,
                queued_at=stamp,  # set now so the happy path commits once; cleared below if Redis fails
                attempts=1,
                intent="",
                line_id="",
            )).scalar_one()
    except IntegrityError:
        log.info("inbound %s: repeated delivery, ignored", sid)
        return Ingested(None, False)
    try:
        queues.process_inbound(inbound_id)
    except RedisError as exc:
        # The row is the record: the sweeper queues it once Redis answers again.
        with db.transaction() as s:
            s.execute(update(InboundMessage).where(InboundMessage.id == inbound_id)
                      .values(queued_at=None, attempts=0))
        log.warning("inbound %s from %s stored, not queued (%s)", sid, mask(params.get("From")),
                    type(exc).__name__)
        return Ingested(inbound_id, False)
    log.info("inbound %s from %s stored and queued", sid, mask(params.get("From")))
    return Ingested(inbound_id, True)
