"""Run an RQ worker on all the project's queues; --burst drains them and exits."""
from __future__ import annotations

import argparse
import logging
import threading

from rq import SimpleWorker

from app import create_app
from handlers import runtime
from handlers.sweeper import sweep

log = logging.getLogger("worker")
SWEEP_EVERY = 60.0


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
    worker = SimpleWorker(services.queues.all, connection=services.queues.redis)
    try:
        worker.work(burst=args.burst, with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()


if __name__ == "__main__":
    main()
