"""/metrics in Prometheus's text format (prometheus-client), for the operator's monitoring.

Two kinds of figures:
- counters of what happened, kept by the process where it happened (messages in, sends that
  failed, statuses reached, the webhook's latency). Under gunicorn and beside `worker.py` they are
  shared through prometheus-client's multiprocess folder (config.prepare_metrics_dir), so any web
  process answers for the whole machine;
- the state of things, read from the database and Redis when /metrics is asked: queue depths,
  unprocessed messages and the age of the oldest, tickets open and overdue by agency; and the
  officers' digests and the escalations given so far (counted in the database, so every process agrees).

Off (404) without METRICS_TOKEN; 401 unless the request carries `Authorization: Bearer <token>`
or comes from an address in METRICS_ALLOW. docs/operations.md, Monitoring.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from store.db import now
from store.models import OPEN_STATES, Digest, InboundMessage, StateCount, Ticket, TicketEvent
from store.queries import overdue

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)
# prometheus-client chose when it was imported: values in shared files, or in this process.
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ

INBOUND = Counter("gateway_inbound_messages", "Messages received and stored, by channel and line "
                  "(line 'other': a number no line of service.toml has)", ["channel", "line"])
OUTBOUND = Counter("gateway_outbound_messages", "Messages to citizens that reached a final status, by "
                   "channel and status (delivered, read, undelivered, failed, suppressed)", ["channel", "status"])
SEND_FAILURES = Counter("gateway_send_failures", "Tries to hand a message to the provider that failed, by "
                        "the provider's error code (or timeout, connection)", ["code"])
WEBHOOK_SECONDS = Histogram("gateway_webhook_seconds", "Time to verify, store and answer an inbound webhook",
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
FINAL = ("delivered", "read", "undelivered", "failed", "suppressed")


def reached(channel: str, status: str) -> None:
    """Count a message to a citizen that reached a final status (once: the caller moved it there)."""
    if status in FINAL:
        OUTBOUND.labels(channel, status).inc()


class _State:
    """The figures read at each scrape; one that cannot be read is left out, and *_up says why."""

    def __init__(self, services):
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queues, db = self.services.queues, self.services.db
        redis_up = GaugeMetricFamily("gateway_redis_up", "Whether Redis answered this scrape")
        try:
            depth = GaugeMetricFamily("gateway_queue_depth", "Jobs and messages waiting, by queue", labels=["queue"])
            for queue in queues.all:
                depth.add_metric([queue.name], queue.count)
            depth.add_metric(["inbound-waiting"], queues.waiting())
            redis_up.add_metric([], 1)
            yield depth
        except RedisError:
            redis_up.add_metric([], 0)
        yield redis_up
        db_up = GaugeMetricFamily("gateway_database_up", "Whether the database answered this scrape")
        try:
            yield from self._database(db)
            db_up.add_metric([], 1)
        except SQLAlchemyError as exc:
            log.warning("metrics: database not read (%s)", type(exc).__name__)
            db_up.add_metric([], 0)
        yield db_up

    def _database(self, db) -> Iterator[GaugeMetricFamily]:
        moment = now()
        with db.transaction() as s:
            waiting = InboundMessage.processed_at.is_(None)
            count, oldest = s.execute(select(func.count(), func.min(InboundMessage.received_at)).where(waiting)).one()
            open_by_agency = s.execute(select(StateCount.agency, func.sum(StateCount.n)).where(
                StateCount.state.in_([state.value for state in OPEN_STATES])).group_by(StateCount.agency)).all()
            late = dict(s.execute(select(Ticket.agency, func.count()).where(overdue(moment))
                                  .group_by(Ticket.agency)).all())
            # Counted from the record, so that every process gives the same, whichever worker sent them.
            digests = s.scalar(select(func.count()).select_from(Digest))
            escalations = s.execute(select(TicketEvent.agency, func.count()).where(TicketEvent.action == "eskalasi")
                                    .group_by(TicketEvent.agency)).all()
        unprocessed = GaugeMetricFamily("gateway_unprocessed_messages",
                                        "Messages stored and not yet made a ticket or a follow-up")
        unprocessed.add_metric([], count)
        age = GaugeMetricFamily("gateway_oldest_unprocessed_seconds",
                                "Age of the oldest message not yet processed (0 when there is none)")
        age.add_metric([], (moment - oldest).total_seconds() if oldest else 0)
        tickets_open = GaugeMetricFamily("gateway_tickets_open", "Open tickets, by agency", labels=["agency"])
        tickets_overdue = GaugeMetricFamily("gateway_tickets_overdue", "Open tickets past their deadline, by agency",
                                            labels=["agency"])
        for agency, n in open_by_agency:
            tickets_open.add_metric([agency], n or 0)
            tickets_overdue.add_metric([agency], late.get(agency, 0))
        sent = CounterMetricFamily("gateway_digests", "Officers' morning digests given (handlers/daily.py)")
        sent.add_metric([], digests)
        reported = CounterMetricFamily("gateway_escalations", "Overdue tickets reported to their agency's heads",
                                       labels=["agency"])
        escalated = dict(escalations)
        for agency in self.services.settings.service.agencies:
            reported.add_metric([agency], escalated.get(agency, 0))
        yield from (unprocessed, age, tickets_open, tickets_overdue, sent, reported)


def _allowed(settings) -> bool:
    sent = request.headers.get("Authorization", "")
    if sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].strip().encode(), settings.metrics_token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in settings.metrics_allow)


@bp.get("/metrics")
def metrics() -> Response:
    services = current_app.extensions["gateway"]
    settings = services.settings
    if not settings.metrics_token:
        abort(404)
    if not _allowed(settings):
        return Response("401 Unauthorized\n", 401, {"WWW-Authenticate": "Bearer", "Content-Type": "text/plain"})
    if MULTIPROCESS:
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    state = CollectorRegistry()
    state.register(_State(services))
    return Response(generate_latest(counted) + generate_latest(state),
                    content_type="text/plain; version=0.0.4; charset=utf-8")
