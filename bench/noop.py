"""The queue's own ceiling: the same worker class running no-op jobs, enqueued the same way."""
from __future__ import annotations

import argparse
import time

from rq import SimpleWorker

from store.queues import PROCESS_RETRY, Queues


def noop(_inbound_id: int) -> None:
    """Do nothing: what is measured is RQ's bookkeeping."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    queues = Queues(args.redis_url, (1,))
    for i in range(args.jobs):
        with queues.redis.pipeline() as pipe:  # exactly as Queues.process_inbound enqueues
            queues.inbound.enqueue("bench.noop.noop", i, retry=PROCESS_RETRY, result_ttl=0, job_id=f"noop-{i}", pipeline=pipe)
            pipe.execute()
    worker = SimpleWorker(queues.all, connection=queues.redis)
    start = time.perf_counter()
    worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
    elapsed = time.perf_counter() - start
    print(f"{args.jobs / elapsed:.1f}")


if __name__ == "__main__":
    main()
