"""Send stored outbound rows through a provider, once, and record what became of them."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from sqlalchemy import case, select, update

from gateway.provider import PermanentError, Provider, RetryableError, reason
from parsers.phone import mask, split_address
from store.db import Database, now
from store.models import DeliveryStatus, OutboundMessage
from store.queries import is_opted_out, set_opt_out

log = logging.getLogger(__name__)

OPTED_OUT_CODE = "21610"
# The one reply an opted-out number still gets: the confirmation of its STOP.
SENT_EVEN_WHEN_OPTED_OUT = {"opted_out"}
_OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


@dataclass(frozen=True)
class Attempt:
    """What one try to send a row came to."""
    sent: bool = False
    retry: bool = False  # the provider was busy or unreachable: try again later
    code: str = ""
    reason: str = ""


class Sender:
    def __init__(self, db: Database, provider: Provider, status_callback_url: str | None):
        self.db = db
        self.provider = provider
        self.status_callback_url = status_callback_url

    def send(self, outbound_id: int) -> Attempt:
        """Send one pending row, unless another sender has it or it was sent already."""
        with self.db.transaction() as s:
            row = s.scalar(
                update(OutboundMessage)
                .where(OutboundMessage.id == outbound_id,
                       OutboundMessage.status == DeliveryStatus.PENDING.value)
                .values(status=DeliveryStatus.SENDING.value, status_rank=DeliveryStatus.SENDING.rank,
                        attempts=OutboundMessage.attempts + 1, updated_at=now())
                .returning(OutboundMessage)
            )
            if row is None:
                return Attempt()  # sent, failed or held by another sender already
            _, number = split_address(row.to_address)
            if row.purpose not in SENT_EVEN_WHEN_OPTED_OUT and is_opted_out(s, number):
                _finish(row, DeliveryStatus.SUPPRESSED, "", "Tidak dikirim: warga memilih berhenti (STOP)")
                log.info("outbound %s suppressed: %s opted out", outbound_id, mask(row.to_address))
                return Attempt()
            to, from_, body = row.to_address, row.from_address, row.body
        callback = f"{self.status_callback_url}?o={outbound_id}" if self.status_callback_url else None
        try:
            result = self.provider.send(to=to, from_=from_, body=body, status_callback=callback)
        except RetryableError as exc:
            self._record_error(outbound_id, DeliveryStatus.PENDING, exc.code, exc.reason)
            log.warning("outbound %s to %s: retryable error %s", outbound_id, mask(to), exc.code)
            return Attempt(retry=True, code=exc.code, reason=exc.reason)
        except PermanentError as exc:
            self._record_error(outbound_id, DeliveryStatus.FAILED, exc.code, exc.reason)
            if exc.code == OPTED_OUT_CODE:
                self.mark_opted_out(number)
            log.warning("outbound %s to %s: failed with %s", outbound_id, mask(to), exc.code)
            return Attempt(code=exc.code, reason=exc.reason)
        with self.db.transaction() as s:
            _advance(s, outbound_id, result.status, "", provider_sid=result.sid, sent_at=now())
        log.info("outbound %s to %s: %s as %s", outbound_id, mask(to), result.status, result.sid)
        return Attempt(sent=True)

    def fail(self, outbound_id: int, code: str, message: str) -> None:
        """Record a row as failed for good (retries are used up)."""
        with self.db.transaction() as s:
            s.execute(update(OutboundMessage)
                      .where(OutboundMessage.id == outbound_id, OutboundMessage.status.in_(_OPEN))
                      .values(status=DeliveryStatus.FAILED.value, status_rank=DeliveryStatus.FAILED.rank,
                              error_code=code[:16], error_message=message[:255], updated_at=now()))

    def _record_error(self, outbound_id: int, status: DeliveryStatus, code: str, message: str) -> None:
        with self.db.transaction() as s:
            s.execute(update(OutboundMessage)
                      .where(OutboundMessage.id == outbound_id,
                             OutboundMessage.status == DeliveryStatus.SENDING.value)
                      .values(status=status.value, status_rank=status.rank, error_code=code[:16],
                              error_message=message[:255], updated_at=now()))

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
            known = {"provider_sid": sid} if sid and not row.provider_sid else {}
            _advance(s, row.id, status, error_code, **known)
            if error_code == OPTED_OUT_CODE:
                set_opt_out(s, split_address(row.to_address)[1], True)
        return True


def _advance(s, outbound_id: int, status: str, error_code: str, **always) -> None:
    """Move a row to a later status (a status that arrives late is ignored); set `always` regardless."""
    try:
        new = DeliveryStatus(status)
    except ValueError:
        new = None
    values = dict(always)
    if new is not None:
        later = OutboundMessage.status_rank < new.rank
        values |= {
            "status": case((later, new.value), else_=OutboundMessage.status),
            "status_rank": case((later, new.rank), else_=OutboundMessage.status_rank),
            "updated_at": case((later, now()), else_=OutboundMessage.updated_at),
        }
        if error_code:
            values |= {"error_code": case((later, error_code[:16]), else_=OutboundMessage.error_code),
                       "error_message": case((later, reason(error_code)), else_=OutboundMessage.error_message)}
    if values:
        s.execute(update(OutboundMessage).where(OutboundMessage.id == outbound_id).values(**values))


def _finish(row: OutboundMessage, status: DeliveryStatus, code: str, message: str) -> None:
    row.status, row.status_rank = status.value, status.rank
    row.error_code, row.error_message, row.updated_at = code, message, now()

