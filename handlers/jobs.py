"""RQ job entry points: they take ids, find the services, and let failures raise for RQ to retry."""
from __future__ import annotations

import logging

from rq import get_current_job

from handlers import inbound, media
from handlers.runtime import current

log = logging.getLogger(__name__)


class ProcessingFailed(Exception):
    """Raised after the rest of a batch is done, so that RQ retries the messages that failed."""


def process_inbound(*inbound_ids: int) -> None:
    """Parse and apply stored inbound messages, each in its own transaction, sending each reply at once.

    A message that fails does not hold up the others; the job then raises, and its
    retry skips the messages already processed.
    """
    services = current()
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
        except Exception:
            log.exception("inbound %s: processing failed", inbound_id)
            failed.append(inbound_id)
    if failed:
        raise ProcessingFailed(f"inbound {failed}: processing failed")


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
