"""The real webhook with storing and queueing replaced by nothing: the ceiling of the ingest benchmark.

Everything before the database runs as in production (form, signature, the row to store);
only Ingestor.ingest is swapped for one that builds the row and drops it.
"""
from flask import Flask

from app import create_app as create_gateway
from gateway.ingest import Ingested, inbound_row


class DiscardingIngestor:
    def ingest(self, params) -> Ingested:
        inbound_row(params)
        return Ingested(None, False)


def create_app() -> Flask:
    app = create_gateway()
    app.extensions["ingestor"] = DiscardingIngestor()
    return app
