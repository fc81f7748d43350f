"""Work lost with Redis or with a worker is found again within a minute, not after the ten-minute sweep."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sqlalchemy import select

from handlers.sweeper import sweep
from store.models import InboundMessage
from store.queues import TAKEN, WAITING

ROOT = Path(__file__).resolve().parent.parent


def _senders(n: int) -> list[str]:
    return [f"+62813000{i:05d}" for i in range(n)]


def test_messages_lost_with_an_emptied_redis_are_queued_at_the_next_sweep(gateway):
    """Redis restarted empty in a burst: every message was stored, none of their jobs is left.
    The next sweep (every 15 s in a worker) queues them all, not only those older than ten minutes."""
    queues = gateway.services.queues
    sweep(gateway.services)  # the sweeper has seen this Redis
    for phone in _senders(5):
        assert gateway.sms("NTT lampu jalan mati", frm=phone).status_code == 200
    queues.redis.flushdb()  # what a restart without persistence does
    swept = sweep(gateway.services)
    assert swept.emptied and swept.inbound == 5
    assert not sweep(gateway.services).emptied  # said once, not at every sweep
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == _senders(5)


def test_messages_taken_by_a_drain_job_whose_worker_died_are_put_back(gateway):
    """A drain job takes messages off the waiting list under a lease it renews while it works;
    killed, it stops renewing, and the sweeper puts them back and wakes a drain job for them."""
    queues = gateway.services.queues
    for phone in _senders(3):
        gateway.sms("NTT jalan berlubang", frm=phone)
    queues.lease_seconds = 0.2
    taken, _ = queues.take_waiting(8)  # ... and the worker is killed before it finishes them
    assert len(taken) == 3 and queues.redis.llen(WAITING) == 0 and queues.redis.zcard(TAKEN) == 3
    assert sweep(gateway.services).recovered == 0  # the lease still runs
    time.sleep(0.3)
    assert sweep(gateway.services).recovered == 3
    assert queues.redis.zcard(TAKEN) == 0
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == _senders(3)


def test_a_drain_job_leaves_nothing_leased_behind(gateway):
    for phone in _senders(10):
        gateway.sms("NTT air PDAM mati", frm=phone)
    gateway.drain()
    assert gateway.services.queues.redis.zcard(TAKEN) == 0
    with gateway.session() as s:
        assert all(s.scalars(select(InboundMessage.processed_at)))


def test_a_killed_worker_leaves_no_scheduler_holding_the_lock(gateway, tmp_path):
    """RQ runs its scheduler in a child process; with the worker killed by SIGKILL the child used to
    live on, renewing the scheduler lock. It now ends with its parent and releases the lock."""
    from tests.conftest import gateway_env

    env = {**os.environ, **gateway_env(gateway.services.settings.database_url, tmp_path, gateway.twilio)}
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    redis = gateway.services.queues.redis
    lock = "rq:scheduler-lock:inbound"
    try:
        deadline = time.monotonic() + 30
        children: list[str] = []
        while not (redis.exists(lock) and children) and time.monotonic() < deadline:
            time.sleep(0.1)  # RQ takes the lock, then forks the scheduler
            children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        assert redis.exists(lock)
        assert children, "RQ's scheduler runs in a child process"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    deadline = time.monotonic() + 10
    while (redis.exists(lock) or any(Path(f"/proc/{pid}").exists() for pid in children)) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()
             and "zombie" not in Path(f"/proc/{pid}/status").read_text()]
    assert alive == [] and not redis.exists(lock)


def test_a_worker_outlives_redis_going_away(twilio, tmp_path):
    """Redis gone while a job runs: RQ's work loop cannot record the job's end and returns; the worker
    process used to end with it, so that nothing was processed once Redis was back. It now waits for
    Redis and works again."""
    from redis import Redis
    from rq import Queue

    from tests.conftest import gateway_env
    from tests.faults import OwnRedis

    server = OwnRedis()
    server.start()
    env = {**os.environ, **gateway_env(f"sqlite:///{tmp_path / 'gateway.db'}", tmp_path, twilio),
           "REDIS_URL": server.url, "LOG_FORMAT": "json"}
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        queue = Queue("inbound", connection=Redis.from_url(server.url))
        running = queue.enqueue("time.sleep", 2)
        deadline = time.monotonic() + 30
        while running.get_status(refresh=True) != "started" and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop()  # ... while the job sleeps, and until well after it ended
        time.sleep(4)
        server.start()
        after = queue.enqueue("time.sleep", 0)
        deadline = time.monotonic() + 40
        while after.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert worker.poll() is None, "the worker process ended"
        assert after.get_status() == "finished"
    finally:
        worker.terminate()
        worker.wait(20)
        server.stop()
    # What went wrong meanwhile was logged as JSON lines, RQ's scheduler child's failure included
    # (multiprocessing used to print it again, raw).
    lines = log.read_text().splitlines()
    assert lines and all(json.loads(line) for line in lines), [x for x in lines if not x.startswith("{")][:3]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_idle_worker_waits_for_jobs_without_timing_out(gateway):
    """RQ blocks on Redis for up to 405 s awaiting a job. On the gateway's own connection, once used
    (5 s socket timeout), the wait failed every 5 s as 'could not connect to Redis' and RQ backed off,
    up to a minute, before it looked for jobs again: a quiet office's next message waited that long."""
    import worker

    gateway.services.queues.redis.ping()  # the sweeper and the start used the gateway's connection
    rq_worker = worker.new_worker(gateway.services)
    assert rq_worker.connection.blpop(["gateway:nothing"], timeout=6) is None  # waited, no TimeoutError
