"""The services a job needs, installed once per process by app.create_app()."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config import Settings
from store.db import Database
from store.queues import Queues


@dataclass
class Services:
    settings: Settings
    db: Database
    queues: Queues
    sender: Any  # gateway.sender.Sender, handed in so handlers never import the gateway


_current: Services | None = None


def install(services: Services) -> None:
    global _current
    _current = services


def current() -> Services:
    if _current is None:
        raise RuntimeError("no services installed: call app.create_app() first")
    return _current
