"""Send stored outbound rows through a provider, once, and record what became of them."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, select, update

from gateway import metrics
from gateway.provider import PermanentError, Provider, RetryableError, UnknownOutcome, reason
from parsers.phone import WHATSAPP_PREFIX, mask, split_address
from store.db import Database, now
from store.models import OPTED_OUT_CODE, Contact, DeliveryStatus, OutboundMessage
from store.queries import set_opt_out

log = logging.getLogger(__name__)

# The one reply an opted-out number still gets: the confirmation of its STOP.
SENT_EVEN_WHEN_OPTED_OUT = {"opted_out"}


@dataclass(frozen=True)
class Attempt:
    """What one try to send a row came to."""
    sent: bool = False
    retry: bool = False  # the provider was busy or unreachable: try again later
    code: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Claim:
    """A row this process holds in the sending state, with what the provider needs."""
    outbound_id: int
    to: str
    from_: str
    body: str
    content_sid: str = ""
    content_variables: str = ""
    unsure_since: datetime | None = None  # an earlier try's outcome is unknown: ask before sending


class Sender:
    def __init__(self, db: Database, provider: Provider, status_callback_url: str | None):
        self.db = db
        self.provider = provider
        self.status_callback_url = status_callback_url

    def send(self, outbound_id: int) -> Attempt:
        """Send one pending row, unless another sender has it or it was sent already."""
        with self.db.transaction() as s:
            claim = self.claim(s, outbound_id)
        return self.send_claimed(claim) if claim else Attempt()

    def claim(self, s, outbound_id: int) -> Claim | None:
        """Take a pending row for sending, in the caller's transaction; None when it is not ours to send.

        A row claimed and never reported on (the process died) is shown as failed by the
        sweeper, never sent again: the citizen may have it already.
        """
        claimed = s.execute(_CLAIM, {"oid": outbound_id, "now": now()}).first()
        if claimed is None:
            return None  # sent, failed or held by another sender already
        to, from_, body, purpose, content_sid, content_variables, unsure_since, opted_out = claimed
        if purpose not in SENT_EVEN_WHEN_OPTED_OUT and opted_out:
            if _settle(s, outbound_id, DeliveryStatus.SUPPRESSED, OPTED_OUT_CODE,
                       "warga memilih berhenti (STOP)", DeliveryStatus.SENDING):
                metrics.reached(split_address(to)[0], DeliveryStatus.SUPPRESSED.value)
            log.info("outbound %s suppressed: %s opted out", outbound_id, mask(to))
            return None
        return Claim(outbound_id, to, from_, body, content_sid, content_variables, unsure_since)

    def send_claimed(self, claim: Claim) -> Attempt:
        """Hand a claimed row to the provider and record the answer; when an earlier try's outcome is
        unknown, first ask the provider whether it went, and record what it took instead of sending again."""
        outbound_id, to = claim.outbound_id, claim.to
        callback = f"{self.status_callback_url}?o={outbound_id}" if self.status_callback_url else None
        started = now()
        try:
            if claim.unsure_since is not None and self._record_if_sent(claim):
                return Attempt(sent=True)
            result = self.provider.send(to=to, from_=claim.from_, body=claim.body, status_callback=callback,
                                        content_sid=claim.content_sid, content_variables=claim.content_variables)
        except UnknownOutcome as exc:
            metrics.SEND_FAILURES.labels(exc.code).inc()
            with self.db.transaction() as s:
                _settle(s, outbound_id, DeliveryStatus.PENDING, exc.code, exc.reason, DeliveryStatus.SENDING)
                s.execute(update(_T).where(_T.c.id == outbound_id, _T.c.unsure_since.is_(None))
                          .values(unsure_since=started))
            log.warning("outbound %s to %s: outcome unknown (%s), asked before any new try", outbound_id,
                        mask(to), exc.code)
            return Attempt(retry=True, code=exc.code, reason=exc.reason)
        except RetryableError as exc:
            metrics.SEND_FAILURES.labels(exc.code).inc()
            self._settle(outbound_id, DeliveryStatus.PENDING, exc.code, exc.reason, DeliveryStatus.SENDING)
            log.warning("outbound %s to %s: retryable error %s", outbound_id, mask(to), exc.code)
            return Attempt(retry=True, code=exc.code, reason=exc.reason)
        except PermanentError as exc:
            metrics.SEND_FAILURES.labels(exc.code).inc()
            self._settle(outbound_id, DeliveryStatus.FAILED, exc.code, exc.reason, DeliveryStatus.SENDING)
            if exc.code == OPTED_OUT_CODE:
                self.mark_opted_out(split_address(to)[1])
            log.warning("outbound %s to %s: failed with %s", outbound_id, mask(to), exc.code)
            return Attempt(code=exc.code, reason=exc.reason)
        with self.db.autocommit() as connection:
            _advance(connection, outbound_id, result.status, "", sid=result.sid, sent_at=now())
        log.info("outbound %s to %s: %s as %s", outbound_id, mask(to), result.status, result.sid)
        return Attempt(sent=True)

    def _record_if_sent(self, claim: Claim) -> bool:
        """Ask the provider for what it took for this row since its unsure try; record the first
        message not yet recorded for another row as this row's. True when one was found."""
        found = self.provider.sent_since(to=claim.to, from_=claim.from_, body=claim.body, since=claim.unsure_since)
        if not found:
            return False
        with self.db.transaction() as s:
            known = set(s.scalars(select(_T.c.provider_sid).where(_T.c.provider_sid.in_([f.sid for f in found]))))
            result = next((f for f in found if f.sid not in known), None)
            if result is None:
                return False
            _advance(s, claim.outbound_id, result.status, "", sid=result.sid, sent_at=claim.unsure_since)
        log.info("outbound %s to %s: found sent as %s, not sent again", claim.outbound_id, mask(claim.to), result.sid)
        return True

    def fail(self, outbound_id: int, code: str, message: str) -> None:
        """Record a row as failed for good (retries are used up), unless the provider shows that a try
        of unknown outcome went after all."""
        with self.db.transaction() as s:
            row = s.get(OutboundMessage, outbound_id)
            unsure = row is not None and row.unsure_since is not None and row.status == DeliveryStatus.PENDING.value
            claim = Claim(row.id, row.to_address, row.from_address, row.body, unsure_since=row.unsure_since) \
                if unsure else None
        try:
            if claim is not None and self._record_if_sent(claim):
                return
        except RetryableError as exc:  # the provider cannot be asked either: unknown, shown as failed
            log.warning("outbound %s: provider not asked (%s)", outbound_id, exc.code)
        self._settle(outbound_id, DeliveryStatus.FAILED, code, message, DeliveryStatus.PENDING,
                     DeliveryStatus.SENDING)

    def _settle(self, outbound_id: int, status: DeliveryStatus, code: str, message: str,
                *only_from: DeliveryStatus) -> None:
        with self.db.transaction() as s:
            channel = _settle(s, outbound_id, status, code, message, *only_from)
        if channel:
            metrics.reached(channel, status.value)

    def mark_opted_out(self, phone: str) -> None:
        with self.db.transaction() as s:
            set_opt_out(s, phone, True)

    def apply_status(self, outbound_id: int | None, sid: str, status: str, error_code: str) -> bool:
        """Apply a status callback; the status only moves forward. False when nothing matched."""
        with self.db.transaction() as s:
            where = (OutboundMessage.id == outbound_id) if outbound_id else (OutboundMessage.provider_sid == sid)
            row = s.scalar(select(OutboundMessage).where(where))
            if row is None or (sid and row.provider_sid and row.provider_sid != sid):
                return False
            _advance(s, row.id, status, error_code, sid=sid or None)
            if status in metrics.FINAL and DeliveryStatus(status).rank > row.status_rank:
                metrics.reached(row.channel, status)
            if error_code == OPTED_OUT_CODE:
                set_opt_out(s, split_address(row.to_address)[1], True)
        return True


_T = OutboundMessage.__table__
_C = Contact.__table__
# Built once: these run for every message, and building SQLAlchemy expressions costs more than running them.
# The claim returns whether the number opted out, read in the same statement (one round trip fewer).
_OPTED_OUT = (select(_C.c.opted_out).where(_C.c.phone == func.replace(_T.c.to_address, WHATSAPP_PREFIX, ""))
              .scalar_subquery())
_CLAIM = (update(_T).where(_T.c.id == bindparam("oid"), _T.c.status == DeliveryStatus.PENDING.value)
          .values(status=DeliveryStatus.SENDING.value, status_rank=DeliveryStatus.SENDING.rank,
                  attempts=_T.c.attempts + 1, updated_at=bindparam("now"))
          .returning(_T.c.to_address, _T.c.from_address, _T.c.body, _T.c.purpose, _T.c.content_sid,
                     _T.c.content_variables, _T.c.unsure_since, _OPTED_OUT))
_LATER = _T.c.status_rank < bindparam("rank")
_WITH_ERROR = _LATER & (bindparam("code") != "")
_ADVANCE = update(_T).where(_T.c.id == bindparam("oid")).values(
    status=case((_LATER, bindparam("status")), else_=_T.c.status),
    status_rank=case((_LATER, bindparam("rank")), else_=_T.c.status_rank),
    updated_at=case((_LATER, bindparam("now")), else_=_T.c.updated_at),
    error_code=case((_WITH_ERROR, bindparam("code")), else_=_T.c.error_code),
    error_message=case((_WITH_ERROR, bindparam("reason")), else_=_T.c.error_message),
    provider_sid=func.coalesce(_T.c.provider_sid, bindparam("sid")),
    sent_at=func.coalesce(_T.c.sent_at, bindparam("sent_at")),
)


def _advance(s, outbound_id: int, status: str, error_code: str, sid: str | None = None, sent_at=None) -> None:
    """Move a row to a later status (a status that arrives late is ignored); keep the first sid and send time."""
    try:
        new = DeliveryStatus(status)
    except ValueError:
        new = None  # a status we do not know: record the sid, change nothing else
    code = error_code[:16] if error_code else ""
    s.execute(_ADVANCE, {"oid": outbound_id, "status": new.value if new else "", "rank": new.rank if new else -1,
                         "now": now(), "code": code, "reason": reason(code) if code else "", "sid": sid,
                         "sent_at": sent_at})


def _settle(s, outbound_id: int, status: DeliveryStatus, code: str, message: str,
            *only_from: DeliveryStatus) -> str | None:
    """Set a row's status and error outright, if it is still in one of the only_from states; return
    its channel when it was, else None."""
    return s.execute(update(_T).where(_T.c.id == outbound_id, _T.c.status.in_([st.value for st in only_from]))
                     .values(status=status.value, status_rank=status.rank, error_code=code[:16],
                             error_message=message[:255], updated_at=now()).returning(_T.c.channel)).scalar()
