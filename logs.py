"""How the gateway's processes log: text lines, or JSON lines with LOG_FORMAT=json; records from
LOG_LEVEL up (INFO: a line for each message stored, processed and sent, and the access log).

A JSON line has `time` (UTC), `level`, `logger` and `message`, and the id of what it is about
where there is one: `message_id`, `outbound_id`, `attachment_id` or `ticket_id`. The ids come from
the house style of the log calls, which begin with what they are about (`"inbound %s: ..."`,
`"outbound %s to %s: ..."`), or from `extra={"ticket_id": ...}`. Like the text lines, they carry
masked numbers and never a message's body: the calls never give one.

Only the standard library: gunicorn's master reads this module (gunicorn.conf.py) before any
of the gateway's.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Alembic says at every start which database it reads ("Context impl SQLiteImpl."); store.migrate
# says what a start changes.
QUIET = {"alembic": {"level": "WARNING"}}
IDS = ("message_id", "outbound_id", "attachment_id", "ticket_id")
# The first word of a log call's format, and the id its first argument is.
_SUBJECTS = {"inbound": "message_id", "webhook": "message_id", "status": "message_id",
             "outbound": "outbound_id", "attachment": "attachment_id", "ticket": "ticket_id"}


def one_line(text: str) -> str:
    """The text with what would end or forge a line (newlines, U+2028, control characters) written
    as escapes: a message may carry a value from outside (a MessageSid of an unsigned request)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class TextFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": one_line(record.getMessage()),
        }
        subject, _, rest = str(record.msg).partition(" ")
        if subject in _SUBJECTS and rest.startswith("%s") and isinstance(record.args, tuple) and record.args:
            line[_SUBJECTS[subject]] = record.args[0]
        for name in IDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)  # ASCII: no line separator of any kind inside a line


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    if log_format in ("", "text"):
        return TextFormatter(TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be text or json, not {log_format!r}")


def configure(log_format: str, level: str = "INFO") -> None:
    """Send every logger's records to standard error in this format (the worker; gunicorn's
    processes get the same through gunicorn.conf.py's logconfig_dict)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(QUIET["alembic"]["level"])


def gunicorn_config(log_format: str, level: str = "INFO") -> dict:
    """gunicorn's logconfig_dict: its own lines (errors, the access log) and the app's, alike."""
    level = level.upper() or "INFO"
    kind = {"()": "logs.JsonFormatter"} if log_format == "json" else {"()": "logs.TextFormatter", "fmt": TEXT_FORMAT}
    formatter(log_format)  # refuse a wrong value here, at start
    handler = {"class": "logging.StreamHandler", "formatter": "gateway", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"gateway": kind},
        "handlers": {"stderr": handler, "access": {**handler, "stream": "ext://sys.stdout"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": level, "handlers": ["access"], "propagate": False},
            **QUIET,
        },
    }
