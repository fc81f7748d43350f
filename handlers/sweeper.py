"""Find work the database holds but Redis lost (Redis was down, a worker died) and queue it again."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from redis.exceptions import RedisError
from sqlalchemy import func, or_, select, update

from handlers import notices
from handlers.runtime import Services
from replies.render import WITA
from store.db import now
from store.models import Attachment, DeliveryStatus, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)
# A message queued this long ago and still unprocessed has lost its job.
STALE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
BATCH = 500


@dataclass(frozen=True)
class Swept:
    inbound: int = 0
    drain: bool = False
    outbound: int = 0
    abandoned: int = 0  # sends of unknown outcome whose worker died: the provider is asked, then maybe sent
    downloads: int = 0
    recovered: int = 0  # put back on the waiting list: their drain job's worker died
    emptied: bool = False  # Redis had lost what it held: every unprocessed message was queued again
    notices: int = 0  # officers told by SMS what waits for them


def sweep(services: Services) -> Swept:
    """Queue stored-but-unqueued inbound messages, pending sends and lost downloads; return the counts."""
    db, queues = services.db, services.queues
    try:
        # Redis started empty: every stored message not processed yet may have lost its place.
        emptied = queues.emptied()
        recovered = len(queues.recover_taken())  # taken by a drain job whose worker died
    except RedisError:
        emptied, recovered = False, 0  # down: the messages stored meanwhile are not queued, seen below
    cutoff = now() - STALE

    waiting = (*_without_job(now() if emptied else cutoff), InboundMessage.attempts < MAX_ATTEMPTS)
    claimed = _claim(db, InboundMessage, waiting, queued_at=now(), attempts=InboundMessage.attempts + 1)
    if claimed:
        try:
            queues.process_inbound(*claimed)
        except RedisError:
            with db.transaction() as s:  # not an attempt: nothing was processed
                s.execute(update(InboundMessage).where(InboundMessage.id.in_(claimed))
                          .values(queued_at=None, attempts=InboundMessage.attempts - 1))
            log.warning("sweeper: Redis still down, %d inbound left for the next round", len(claimed))
            return Swept()
    # Messages left waiting by a drain job that was lost before it started (its worker died):
    # its mark expires within a minute, then they get a new one.
    try:
        drain = bool(queues.waiting()) and queues.wake_drain()
    except RedisError:
        drain = False  # Redis is down: nothing waits there that this could reach

    # A send that started and never reported back (its worker died) may or may not have gone out:
    # it is sent again only after the provider shows it did not (gateway.sender asks first).
    abandoned = _claim(db, OutboundMessage, (OutboundMessage.status == DeliveryStatus.SENDING.value,
                                             OutboundMessage.updated_at < now() - services.queues.send_seconds),
                       status=DeliveryStatus.PENDING.value, status_rank=DeliveryStatus.PENDING.rank,
                       unsure_since=func.coalesce(OutboundMessage.unsure_since, OutboundMessage.updated_at),
                       updated_at=now())
    _enqueue_each(queues.send, abandoned)
    pending = (OutboundMessage.status == DeliveryStatus.PENDING.value,
               OutboundMessage.updated_at < (now() if emptied else cutoff))
    # Claimed rows that Redis refuses wait for the next round after this one (updated_at is now).
    outbound = _enqueue_each(queues.send, _claim(db, OutboundMessage, pending, updated_at=now()))

    # A download job Redis lost: the attachment is still missing long after its message was processed.
    with db.transaction() as s:
        missing = s.scalars(
            select(Attachment.id).join(InboundMessage, Attachment.inbound_id == InboundMessage.id)
            .where(Attachment.stored_at.is_(None), Attachment.error == "", InboundMessage.processed_at < cutoff)
            .order_by(Attachment.id).limit(BATCH)
        ).all()
    downloads = _enqueue_each(queues.download, queues.without_download_job(missing)) if missing else 0

    try:
        _schedule_daily(queues, morning=services.settings.digest_at)
    except RedisError:
        pass  # the next sweep schedules it
    try:
        told = len(notices.send_due(services))  # officers' immediate notices, grouped (handlers/notices.py)
    except RedisError:
        told = 0  # written and pending: the pending sends' sweep queues them

    swept = Swept(len(claimed), drain, outbound, len(abandoned), downloads, recovered, emptied, told)
    if swept != Swept():
        log.info("sweeper: queued %d inbound%s%s, %d outbound, %d downloads; %d sends of unknown outcome "
                 "checked; %d taken by a dead worker put back", swept.inbound, " and a drain job" if drain else "",
                 " (Redis had lost its data)" if emptied else "", swept.outbound, swept.downloads,
                 swept.abandoned, recovered)
    return swept


def _schedule_daily(queues, moment: datetime | None = None, morning: time = time(7, 30)) -> None:
    """Schedule the daily work at its hour (WITA): retention at night, when no office works the inbox;
    the service standard's clock and the digests in the morning (DIGEST_AT)."""
    moment = (moment or datetime.now(timezone.utc)).astimezone(WITA)
    for job, hour in {"handlers.retention.daily": time(2, 0), "handlers.daily.run": morning}.items():
        run = datetime.combine(moment.date(), hour, WITA)
        queues.schedule_daily(job, run if run > moment else run + timedelta(days=1))


def _without_job(cutoff) -> tuple:
    """Stored, unprocessed, and not queued since cutoff: no job carries it any more."""
    return (InboundMessage.processed_at.is_(None),
            or_(InboundMessage.queued_at.is_(None), InboundMessage.queued_at < cutoff))


def _given_up() -> tuple:
    """Messages the sweeper no longer queues: processing failed MAX_ATTEMPTS times, the last long ago."""
    return (*_without_job(now() - STALE), InboundMessage.attempts >= MAX_ATTEMPTS)


def given_up_count(db) -> int:
    """Count the messages left unprocessed for good, for /healthz and monitoring."""
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(InboundMessage).where(*_given_up()))


def failed_sends(db, within: timedelta = timedelta(hours=1)) -> int:
    """Count the messages to citizens that failed for good lately, for /healthz: a few are phones
    switched off or numbers mistyped; many at once are the provider refusing the account."""
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.status == DeliveryStatus.FAILED.value, OutboundMessage.updated_at >= now() - within))


def given_up(db, limit: int = 100) -> list[InboundMessage]:
    """The messages left unprocessed for good, oldest first."""
    with db.transaction() as s:
        return list(s.scalars(select(InboundMessage).where(*_given_up()).order_by(InboundMessage.id).limit(limit)))


def retry_given_up(db) -> int:
    """Let the sweeper take them again (once their cause is fixed); return how many."""
    with db.transaction() as s:
        return s.execute(update(InboundMessage).where(*_given_up()).values(attempts=0, queued_at=None)).rowcount


def _claim(db, model, conditions: tuple, **values) -> list[int]:
    """Mark up to BATCH rows matching conditions with values; return the ids this process won.

    The conditions are checked again in the update, so two sweepers never both take a row.
    """
    with db.transaction() as s:
        ids = s.scalars(select(model.id).where(*conditions).order_by(model.id).limit(BATCH)).all()
    if not ids:
        return []
    with db.transaction() as s:
        won = s.scalars(update(model).where(model.id.in_(ids), *conditions).values(**values)
                        .returning(model.id)).all()
    return sorted(won)


def _enqueue_each(enqueue, ids: list[int]) -> int:
    """Queue one job per id until Redis fails; return how many were queued."""
    for done, row_id in enumerate(ids):
        try:
            enqueue(row_id)
        except RedisError:
            log.warning("sweeper: Redis still down, %d jobs left for a later round", len(ids) - done)
            return done
    return len(ids)
