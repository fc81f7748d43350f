"""The Redis connection and the RQ queues that carry work (the database is the record)."""
from __future__ import annotations

from redis import Redis
from rq import Queue, Retry

INBOUND = "inbound"
OUTBOUND = "outbound"
# Processing a message fails only when the database does: retry soon, then leave it to the sweeper.
PROCESS_RETRY = Retry(max=3, interval=[5, 30, 120])


class Queues:
    """Enqueue the project's jobs by name, so nothing here imports the handlers."""

    def __init__(self, redis_url: str, send_retry_intervals: tuple[int, ...]):
        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.inbound = Queue(INBOUND, connection=self.redis)
        self.outbound = Queue(OUTBOUND, connection=self.redis)
        self.send_retry = Retry(max=len(send_retry_intervals), interval=list(send_retry_intervals))

    @property
    def all(self) -> list[Queue]:
        return [self.inbound, self.outbound]

    def process_inbound(self, inbound_id: int) -> None:
        self.inbound.enqueue("handlers.jobs.process_inbound", inbound_id, retry=PROCESS_RETRY,
                             result_ttl=0, job_id=f"inbound-{inbound_id}")

    def send(self, outbound_id: int) -> None:
        self.outbound.enqueue("handlers.jobs.send_outbound", outbound_id, retry=self.send_retry,
                              result_ttl=0, job_id=f"outbound-{outbound_id}")

    def download(self, attachment_id: int) -> None:
        self.outbound.enqueue("handlers.jobs.download_media", attachment_id, retry=self.send_retry,
                              result_ttl=0, job_id=f"media-{attachment_id}")
