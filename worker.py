"""Run an RQ worker on all the project's queues; --burst drains them and exits."""
from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import threading

from rq import SimpleWorker

from app import create_app
from handlers import runtime
from handlers.sweeper import sweep

log = logging.getLogger("worker")
# Work lost with a dead worker or an emptied Redis is found by the next sweep: with the drain
# lease (store.queues) it is queued again within a minute.
SWEEP_EVERY = 15.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a child this process forks (RQ's scheduler): end it when this process dies, even by SIGKILL,
    so that no orphan keeps the scheduler lock (SIGTERM lets RQ's scheduler release it)."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        return  # not Linux: the lock expires a minute after the parent's death instead
    if os.getppid() != parent:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def _sweep_forever(services: runtime.Services, stop: threading.Event) -> None:
    while not stop.wait(SWEEP_EVERY):
        try:
            sweep(services)
        except Exception:  # the sweeper must outlive a passing database or Redis outage
            log.exception("sweep failed; trying again in %ss", SWEEP_EVERY)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="drain the queues, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    create_app()
    services = runtime.current()
    sweep(services)
    stop = threading.Event()
    if not args.burst:
        threading.Thread(target=_sweep_forever, args=(services, stop), daemon=True).start()
    # SimpleWorker runs jobs in this process: no fork per job, and the services above stay warm.
    os.register_at_fork(after_in_child=_die_with_parent)
    worker = SimpleWorker(services.queues.all, connection=services.queues.redis)
    try:
        worker.work(burst=args.burst, with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()


if __name__ == "__main__":
    main()
