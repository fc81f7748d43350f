"""Run an RQ worker on all the project's queues; --burst drains them and exits."""
from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import sys
import threading
import time

import config
import logs

if __name__ == "__main__":  # the counters for /metrics, before the app's modules import prometheus_client
    config.prepare_metrics_dir()

from redis import Redis  # noqa: E402
from redis.exceptions import RedisError  # noqa: E402
from rq import SimpleWorker  # noqa: E402

from app import create_app  # noqa: E402
from handlers import runtime  # noqa: E402
from handlers.sweeper import sweep  # noqa: E402

log = logging.getLogger("worker")
# Work lost with a dead worker or an emptied Redis is found by the next sweep: with the drain
# lease (store.queues) it is queued again within a minute.
SWEEP_EVERY = 15.0
PR_SET_PDEATHSIG = 1
REDIS_WAIT_MAX = 5.0


class Worker(SimpleWorker):
    """RQ's worker, which says when a stop was asked for (SIGTERM, Ctrl-C): its work loop also
    returns when Redis goes away at the wrong moment, and then this process must go on."""

    stopping = False  # for the process, across the workers it runs one after the other

    def request_stop(self, signum, frame):
        Worker.stopping = True
        super().request_stop(signum, frame)


def new_worker(services: runtime.Services) -> Worker:
    """RQ's worker on a Redis connection of its own: RQ blocks on it for minutes awaiting a job, past
    the gateway's socket timeout, and sets a longer one, which only connections made after apply."""
    connection = Redis.from_url(services.settings.redis_url, socket_connect_timeout=2)
    return Worker([queue.name for queue in services.queues.all], connection=connection)


def _wait_for_redis(redis: Redis) -> bool:
    """Wait until Redis answers; False if a stop was asked for meanwhile."""
    delay = 0.5
    while not Worker.stopping:
        try:
            redis.ping()
            return True
        except RedisError as exc:
            log.warning("Redis does not answer (%s); trying again in %.0f s", type(exc).__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, REDIS_WAIT_MAX)
    return False


def _die_with_parent() -> None:
    """In a child this process forks (RQ's scheduler): end it when this process dies, even by SIGKILL,
    so that no orphan keeps the scheduler lock (SIGTERM lets RQ's scheduler release it); its own
    output goes through logging only."""
    # RQ's scheduler logs its failure (through logging: LOG_FORMAT's lines) and raises it again, and
    # multiprocessing prints that raw to stderr, breaking the log's format: the copy is dropped.
    sys.stderr = open(os.devnull, "w")
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        return  # not Linux: the lock expires a minute after the parent's death instead
    if os.getppid() != parent:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def _sweep_forever(services: runtime.Services, stop: threading.Event) -> None:
    while True:
        try:
            sweep(services)
        except Exception:  # the sweeper must outlive a passing database or Redis outage
            log.exception("sweep failed; trying again in %ss", SWEEP_EVERY)
        if stop.wait(SWEEP_EVERY):
            return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="drain the queues, then exit")
    args = parser.parse_args(argv)
    level = os.environ.get("LOG_LEVEL", "INFO")
    logs.configure(os.environ.get("LOG_FORMAT", "").strip().lower(), level)  # until the settings are read
    create_app()
    services = runtime.current()
    logs.configure(services.settings.log_format, level)  # LOG_FORMAT may be in .env too
    redis = services.queues.redis
    signal.signal(signal.SIGTERM, lambda *_: setattr(Worker, "stopping", True))  # until RQ installs its own
    if not _wait_for_redis(redis):
        return
    stop = threading.Event()
    if args.burst:
        sweep(services)
    else:
        threading.Thread(target=_sweep_forever, args=(services, stop), daemon=True).start()
    # SimpleWorker runs jobs in this process: no fork per job, and the services above stay warm.
    os.register_at_fork(after_in_child=_die_with_parent)
    try:
        while _wait_for_redis(redis):
            try:
                new_worker(services).work(burst=args.burst, with_scheduler=True, logging_level="WARNING")
            except RedisError as exc:  # raised from RQ's teardown, Redis being gone
                log.warning("worker loop ended: %s", type(exc).__name__)
            if args.burst or Worker.stopping:
                break
            log.warning("RQ's work loop ended without a stop asked for (Redis gone?): starting it again")
    finally:
        stop.set()


if __name__ == "__main__":
    main()
