"""The Redis connection and the RQ queues that carry work (the database is the record)."""
from __future__ import annotations

from datetime import timedelta

from redis import Redis
from rq import Queue, Retry
from rq.job import Job

INBOUND = "inbound"
OUTBOUND = "outbound"
# Processing a message fails only when the database does: retry soon, then leave it to the sweeper.
PROCESS_RETRY = Retry(max=3, interval=[5, 30, 120])
# Messages per processing job: enough to share RQ's per-job cost, few enough that a job
# (each message sent to the provider in turn) ends in minutes even when the provider is slow.
JOB_BATCH = 8
# Time for the database and RQ in a job, beside its calls to the provider.
JOB_SLACK_SECONDS = 60
# A 20 MB document (the largest kept) over a slow office link of about 300 kbit/s.
DOWNLOAD_TIMEOUT_SECONDS = 600


class Queues:
    """Enqueue the project's jobs by name, so nothing here imports the handlers."""

    def __init__(self, redis_url: str, send_retry_intervals: tuple[int, ...], provider_timeout: float = 10):
        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.inbound = Queue(INBOUND, connection=self.redis)
        self.outbound = Queue(OUTBOUND, connection=self.redis)
        self.send_retry_intervals = send_retry_intervals
        # A provider call may wait the timeout twice (to connect, then to read); RQ stops a job
        # that runs past its timeout, which would cut a batch short in the middle of a send.
        self.send_timeout = int(2 * provider_timeout) + JOB_SLACK_SECONDS
        self.process_timeout = JOB_BATCH * int(2 * provider_timeout) + JOB_SLACK_SECONDS

    @property
    def all(self) -> list[Queue]:
        return [self.inbound, self.outbound]

    def process_inbound(self, *inbound_ids: int) -> None:
        """Queue the processing of stored inbound messages: one job per batch of at most JOB_BATCH.

        Each job costs a dozen Redis round trips of RQ bookkeeping whatever it carries,
        so the messages a web process stored together are processed by one job.
        """
        with self.redis.pipeline() as pipe:
            for start in range(0, len(inbound_ids), JOB_BATCH):
                ids = inbound_ids[start:start + JOB_BATCH]
                job_id = f"inbound-{ids[0]}" if len(ids) == 1 else f"inbound-{ids[0]}-{ids[-1]}"
                self.inbound.enqueue("handlers.jobs.process_inbound", *ids, retry=PROCESS_RETRY,
                                     job_timeout=self.process_timeout, result_ttl=0, job_id=job_id,
                                     pipeline=pipe)
            pipe.execute()

    def _retrying(self, func: str, *args, job_id: str, job_timeout: int, tried_once: bool) -> None:
        """Enqueue a job that RQ retries with the configured backoff.

        tried_once: the first attempt already happened inline, so this job is the
        first retry and waits the first interval.
        """
        intervals = list(self.send_retry_intervals)
        delay = intervals.pop(0) if tried_once and intervals else 0
        retry = Retry(max=len(intervals), interval=intervals) if intervals else None
        options = {"retry": retry, "result_ttl": 0, "job_id": job_id, "job_timeout": job_timeout}
        if delay:
            self.outbound.enqueue_in(timedelta(seconds=delay), func, *args, **options)
        else:
            self.outbound.enqueue(func, *args, **options)

    def send(self, outbound_id: int, *, tried_once: bool = False) -> None:
        self._retrying("handlers.jobs.send_outbound", outbound_id, job_id=f"outbound-{outbound_id}",
                       job_timeout=self.send_timeout, tried_once=tried_once)

    def download(self, attachment_id: int) -> None:
        self._retrying("handlers.jobs.download_media", attachment_id, job_id=_download_job_id(attachment_id),
                       job_timeout=DOWNLOAD_TIMEOUT_SECONDS, tried_once=False)

    def without_download_job(self, attachment_ids: list[int]) -> list[int]:
        """The attachments whose download job (queued, running or waiting to retry) Redis no longer holds."""
        with self.redis.pipeline(transaction=False) as pipe:
            for attachment_id in attachment_ids:
                pipe.exists(Job.key_for(_download_job_id(attachment_id)))
            held = pipe.execute()
        return [a for a, found in zip(attachment_ids, held) if not found]


def _download_job_id(attachment_id: int) -> str:
    return f"media-{attachment_id}"
