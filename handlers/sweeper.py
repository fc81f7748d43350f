"""Find work the database holds but Redis lost (Redis was down, a worker died) and queue it again."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import or_, select, update

from handlers.runtime import Services
from store.db import now
from store.models import DeliveryStatus, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)
# A message queued this long ago and still unprocessed has lost its job.
STALE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
BATCH = 500


@dataclass(frozen=True)
class Swept:
    inbound: int = 0
    outbound: int = 0
    abandoned: int = 0


def sweep(services: Services) -> Swept:
    """Queue stored-but-unqueued inbound messages and pending outbound ones; return the counts."""
    cutoff = now() - STALE
    inbound = outbound = 0
    db, queues = services.db, services.queues
    with db.transaction() as s:
        ids = s.scalars(
            select(InboundMessage.id)
            .where(InboundMessage.processed_at.is_(None), InboundMessage.attempts < MAX_ATTEMPTS,
                   or_(InboundMessage.queued_at.is_(None), InboundMessage.queued_at < cutoff))
            .order_by(InboundMessage.id).limit(BATCH)
        ).all()
    for inbound_id in ids:
        if not _claim(db, InboundMessage, inbound_id, InboundMessage.processed_at.is_(None),
                      or_(InboundMessage.queued_at.is_(None), InboundMessage.queued_at < cutoff),
                      queued_at=now(), attempts=InboundMessage.attempts + 1):
            continue
        try:
            queues.process_inbound(inbound_id)
        except RedisError:
            _claim(db, InboundMessage, inbound_id, queued_at=None)
            log.warning("sweeper: Redis still down, %s inbound left for the next round", len(ids))
            return Swept(inbound, outbound)
        inbound += 1

    with db.transaction() as s:
        ids = s.scalars(
            select(OutboundMessage.id)
            .where(OutboundMessage.status == DeliveryStatus.PENDING.value, OutboundMessage.updated_at < cutoff)
            .order_by(OutboundMessage.id).limit(BATCH)
        ).all()
        # A send that started and never reported back may or may not have gone out:
        # show it as failed rather than risk sending the citizen the same thing twice.
        abandoned = s.execute(
            update(OutboundMessage)
            .where(OutboundMessage.status == DeliveryStatus.SENDING.value, OutboundMessage.updated_at < cutoff)
            .values(status=DeliveryStatus.FAILED.value, status_rank=DeliveryStatus.FAILED.rank,
                    error_code="unknown", error_message="Hasil pengiriman tidak diketahui (pengirim terhenti)",
                    updated_at=now())
        ).rowcount
    for outbound_id in ids:
        if not _claim(db, OutboundMessage, outbound_id,
                      OutboundMessage.status == DeliveryStatus.PENDING.value,
                      OutboundMessage.updated_at < cutoff, updated_at=now()):
            continue
        try:
            queues.send(outbound_id)
        except RedisError:
            log.warning("sweeper: Redis still down, outbound left for the next round")
            break
        outbound += 1
    if inbound or outbound or abandoned:
        log.info("sweeper: queued %d inbound, %d outbound; %d sends of unknown outcome marked failed",
                 inbound, outbound, abandoned)
    return Swept(inbound, outbound, abandoned)


def _claim(db, model, row_id: int, *conditions, **values) -> bool:
    """Update one row if it still matches; True when this process won it."""
    with db.transaction() as s:
        return bool(s.execute(update(model).where(model.id == row_id, *conditions).values(**values)).rowcount)
