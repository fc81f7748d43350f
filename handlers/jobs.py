"""RQ job entry points: they take ids, find the services, and let failures raise for RQ to retry."""
from __future__ import annotations

import logging
import time

from rq import get_current_job
from rq.timeouts import BaseTimeoutException

from handlers import inbound, media
from handlers.runtime import Services, current
from store.queues import DRAIN_MAX, JOB_BATCH

log = logging.getLogger(__name__)
# Seconds after which a drain job renews the lease on the messages it has taken and not finished.
LEASE_RENEW = 5


class ProcessingFailed(Exception):
    """Raised after the rest of a batch is done, so that RQ retries the messages that failed."""


def drain_inbound() -> None:
    """Process the stored messages waiting in Redis, JOB_BATCH at a time, up to DRAIN_MAX.

    When more are waiting, another drain job is queued for the next free worker (this one
    takes it itself when it is the only one). A message that fails gets a job of its own,
    which RQ retries.
    """
    services = current()
    queues = services.queues
    queues.drain_started()
    failed: list[int] = []
    taken = 0
    while taken < DRAIN_MAX:
        ids, left = queues.take_waiting(min(JOB_BATCH, DRAIN_MAX - taken))
        if left:
            queues.wake_drain()
        if not ids:
            break
        taken += len(ids)
        renewed = time.monotonic()
        for done, inbound_id in enumerate(ids):
            if time.monotonic() - renewed > LEASE_RENEW:  # the provider is slow: keep the rest ours
                queues.renew(ids[done:])
                renewed = time.monotonic()
            failed += _process_each(services, [inbound_id])
        if failed:
            queues.process_inbound(*failed)
            failed = []
        queues.finished(ids)


def process_inbound(*inbound_ids: int) -> None:
    """Process the stored inbound messages a job carries; raise when any failed, so RQ retries.

    The retry skips the messages already processed.
    """
    failed = _process_each(current(), inbound_ids)
    if failed:
        raise ProcessingFailed(f"inbound {failed}: processing failed")


def _process_each(services: Services, inbound_ids) -> list[int]:
    """Parse and apply messages, each in its own transaction, sending each reply at once; return the failed ids.

    A message that fails does not hold up the others.
    """
    failed = []
    for inbound_id in inbound_ids:
        try:
            outcome = inbound.process(services, inbound_id)
            # The claimed reply first: nothing else may keep it from the provider (a download
            # that Redis refuses to queue is queued again by the sweeper).
            for claim in outcome.claims:
                if services.sender.send_claimed(claim).retry:
                    services.queues.send(claim.outbound_id, tried_once=True)
            for attachment_id in outcome.attachment_ids:
                services.queues.download(attachment_id)
        except BaseTimeoutException:
            raise  # the job's time is up: the messages it did not reach are the sweeper's
        except Exception:
            log.exception("inbound %s: processing failed", inbound_id)
            failed.append(inbound_id)
    return failed


class ProviderUnavailable(Exception):
    """Raised so that RQ retries a send later, with backoff."""


def send_outbound(outbound_id: int) -> None:
    """Send one stored outbound row; on the last retry, record it as failed with the reason."""
    services = current()
    attempt = services.sender.send(outbound_id)
    if not attempt.retry:
        return
    job = get_current_job()
    if job is None or not job.retries_left:
        services.sender.fail(outbound_id, attempt.code, f"Gagal setelah beberapa percobaan: {attempt.reason}")
        log.warning("outbound %s: retries used up (%s)", outbound_id, attempt.code)
    raise ProviderUnavailable(f"outbound {outbound_id}: {attempt.code}")


def download_media(attachment_id: int) -> None:
    """Copy one attachment into the media store; on the last retry, record why it is missing."""
    services = current()
    try:
        media.download(services, attachment_id)
    except media.MediaFetchError:
        job = get_current_job()
        if job is None or not job.retries_left:
            media.record_failure(services, attachment_id, "Gagal diunduh dari penyedia setelah beberapa percobaan")
        raise
