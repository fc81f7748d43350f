"""The Redis connection and the RQ queues that carry work (the database is the record)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

INBOUND = "inbound"
OUTBOUND = "outbound"
DAY_SECONDS = 24 * 3600
DAILY_TIMEOUT_SECONDS = 3600  # the daily work (retention over years of tickets at its first run)
# Processing a message fails only when the database does: retry soon, then leave it to the sweeper.
PROCESS_RETRY = Retry(max=3, interval=[5, 30, 120])
# Messages per job that carries ids (the sweeper's, a retry's), and per take of a drain job:
# enough to share RQ's per-job cost, few enough that such a job (each message sent to the
# provider in turn) ends in minutes even when the provider is slow.
JOB_BATCH = 8
# Time for the database and RQ in a job, beside its calls to the provider.
JOB_SLACK_SECONDS = 60
# Stored messages waiting for a worker (ids, oldest first), and the mark of a drain job that is
# queued and not yet started: while it stands, newly stored messages need no job of their own.
WAITING = "gateway:inbound:waiting"
DRAIN_QUEUED = "gateway:inbound:drain-queued"
# The mark outlives a drain job's wait in the queue, and not much more: a mark whose job
# was lost (Redis failed between the two, its worker died) holds back new jobs only this long.
DRAIN_MARK_SECONDS = 30
# The messages a drain job has taken and not finished, scored by when its lease ends: a job whose
# worker died stops renewing it, and the sweeper puts them back on the waiting list (recover_taken).
TAKEN = "gateway:inbound:taken"
# A key no expiry removes: missing, Redis was started empty (or flushed), and what it carried is lost.
ALIVE = "gateway:redis-alive"
# Take up to ARGV[1] waiting ids, leased until ARGV[2]; return them and how many still wait.
_TAKE = """
local ids = redis.call('LPOP', KEYS[1], ARGV[1]) or {}
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[2], ARGV[2], id) end
return {ids, redis.call('LLEN', KEYS[1])}
"""
# Put the taken ids whose lease ended before ARGV[1] back on the waiting list, first; return them.
_RECOVER = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
if #ids > 0 then
  redis.call('ZREM', KEYS[2], unpack(ids))
  redis.call('LPUSH', KEYS[1], unpack(ids))
end
return ids
"""
# Messages one drain job takes at most, so that it ends in reasonable time even with a slow provider.
DRAIN_MAX = 64
# A 20 MB document (the largest kept) over a slow office link of about 300 kbit/s.
DOWNLOAD_TIMEOUT_SECONDS = 600


class Queues:
    """Enqueue the project's jobs by name, so nothing here imports the handlers."""

    def __init__(self, redis_url: str, send_retry_intervals: tuple[int, ...], provider_timeout: float = 10):
        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.inbound = Queue(INBOUND, connection=self.redis)
        self.outbound = Queue(OUTBOUND, connection=self.redis)
        self.send_retry_intervals = send_retry_intervals
        self._wake_owed = False
        # A provider call may wait the timeout twice (to connect, then to read); RQ stops a job
        # that runs past its timeout, which would cut a batch short in the middle of a send.
        self.send_timeout = int(2 * provider_timeout) + JOB_SLACK_SECONDS
        self.process_timeout = JOB_BATCH * int(2 * provider_timeout) + JOB_SLACK_SECONDS
        self.drain_timeout = DRAIN_MAX * int(2 * provider_timeout) + JOB_SLACK_SECONDS
        # The longest a live sender holds a row in the sending state (to connect, then to read), and a
        # drain job one message (renewed before each that starts more than LEASE_RENEW after the last).
        self.send_seconds = timedelta(seconds=2 * provider_timeout + 10)
        self.lease_seconds = 2 * provider_timeout + 20
        self._take = self.redis.register_script(_TAKE)
        self._recover = self.redis.register_script(_RECOVER)

    @property
    def all(self) -> list[Queue]:
        return [self.inbound, self.outbound]

    def inbound_stored(self, *inbound_ids: int) -> None:
        """Hand newly stored messages to the workers: add them to the waiting list, and wake a
        drain job when the list was empty.

        A list that already held messages has a drain job coming: whoever made it non-empty
        woke one, and a drain job that leaves messages behind wakes the next (drain_inbound).
        So under load a batch costs one Redis command, and one drain job takes every message
        stored while it waited in the queue (each job costs a dozen round trips of RQ bookkeeping).
        """
        was_empty = self.redis.rpush(WAITING, *inbound_ids) == len(inbound_ids)
        if was_empty or self._wake_owed:
            # Until a wake gets through, the messages on the list may have no job coming.
            self._wake_owed = True
            self.wake_drain()
            self._wake_owed = False

    def wake_drain(self) -> bool:
        """Queue a drain job for the waiting messages, unless one is queued already; True when queued."""
        if not self.redis.set(DRAIN_QUEUED, 1, nx=True, ex=DRAIN_MARK_SECONDS):
            return False
        self._enqueue_drain()
        return True

    def waiting(self) -> int:
        """How many stored messages wait for a drain job."""
        return self.redis.llen(WAITING)

    def _enqueue_drain(self) -> None:
        try:
            self.inbound.enqueue("handlers.jobs.drain_inbound", job_timeout=self.drain_timeout, result_ttl=0)
        except RedisError:
            # Without its job the mark would hold back the next messages' job.
            try:
                self.redis.delete(DRAIN_QUEUED)
            except RedisError:
                pass  # it expires on its own
            raise

    def drain_started(self) -> None:
        """Let messages stored from now on queue a new drain job."""
        self.redis.delete(DRAIN_QUEUED)

    def take_waiting(self, count: int) -> tuple[list[int], int]:
        """Take up to count waiting message ids, oldest first, leased to the caller until it
        finishes them (finished) or renews the lease (renew); return them and how many still wait."""
        taken, left = self._take(keys=[WAITING, TAKEN], args=[count, time.time() + self.lease_seconds])
        return [int(i) for i in taken], left

    def renew(self, inbound_ids: list[int]) -> None:
        """Extend the lease of taken messages not finished yet (a slow provider holds each a while)."""
        if inbound_ids:
            self.redis.zadd(TAKEN, {i: time.time() + self.lease_seconds for i in inbound_ids}, xx=True)

    def finished(self, inbound_ids: list[int]) -> None:
        if inbound_ids:
            self.redis.zrem(TAKEN, *inbound_ids)

    def recover_taken(self) -> list[int]:
        """Put back on the waiting list the messages whose drain job stopped renewing its lease
        (its worker died), and wake a drain job for them; return their ids."""
        ids = [int(i) for i in self._recover(keys=[WAITING, TAKEN], args=[time.time()])]
        if ids:
            self.wake_drain()
        return ids

    def emptied(self) -> bool:
        """Whether Redis lost what it held since the last call anywhere (it restarted empty, or was
        flushed): the messages it carried must be queued again from the database."""
        return bool(self.redis.set(ALIVE, 1, nx=True))

    def process_inbound(self, *inbound_ids: int) -> None:
        """Queue jobs that carry the ids of stored messages, at most JOB_BATCH each (the sweeper's
        and the retries' way: they do not depend on the waiting list)."""
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

    def schedule_daily(self, func: str, at: datetime) -> bool:
        """Have RQ's scheduler (in a worker) run a daily job at that time, unless its run is already
        scheduled, queued or running; True when scheduled now. One job id a function, so that every
        worker's sweeper may ask and one run is kept; a run that ended (its result is not kept) or
        failed makes room for the next."""
        job_id = "daily-" + func.replace(".", "-")
        try:
            status = Job.fetch(job_id, connection=self.redis).get_status()
        except NoSuchJobError:
            status = None
        if status in (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED):
            return False
        self.inbound.enqueue_at(at, func, job_id=job_id, result_ttl=0, failure_ttl=DAY_SECONDS,
                                job_timeout=DAILY_TIMEOUT_SECONDS)
        return True

    def without_download_job(self, attachment_ids: list[int]) -> list[int]:
        """The attachments whose download job (queued, running or waiting to retry) Redis no longer holds."""
        with self.redis.pipeline(transaction=False) as pipe:
            for attachment_id in attachment_ids:
                pipe.exists(Job.key_for(_download_job_id(attachment_id)))
            held = pipe.execute()
        return [a for a, found in zip(attachment_ids, held) if not found]


def _download_job_id(attachment_id: int) -> str:
    return f"media-{attachment_id}"
