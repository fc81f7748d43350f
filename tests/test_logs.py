"""LOG_FORMAT=json: JSON lines with time, level, logger, message and the id of what they are about;
masked numbers, never a body, as in the text lines."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import logs
from config import ConfigError, Settings
from tests.conftest import CITIZEN, gateway_env, new_sid

ROOT = Path(__file__).resolve().parent.parent


def _record(msg: str, *args, **extra) -> logging.LogRecord:
    record = logging.LogRecord("handlers.inbound", logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize("msg, args, extra, ids", [
    ("inbound %s from %s: %s", ("SM123", "+6281***890", "complaint"), {}, {"message_id": "SM123"}),
    ("webhook %s: not stored", ("SM9",), {}, {"message_id": "SM9"}),
    ("outbound %s to %s: failed with %s", (41, "+6281***890", "21211"), {}, {"outbound_id": 41}),
    ("attachment %s stored (%d bytes)", (7, 1024), {}, {"attachment_id": 7}),
    ("answer sent", (), {"ticket_id": 12}, {"ticket_id": 12}),
    ("sweeper: queued %d inbound", (3,), {}, {}),  # about nothing in particular
    ("inbound: the database refused a batch of %d", (4,), {}, {}),  # no id after the word
])
def test_a_json_line_has_its_fields_and_the_id_it_is_about(msg, args, extra, ids):
    line = json.loads(logs.JsonFormatter().format(_record(msg, *args, **extra)))
    assert line["level"] == "WARNING" and line["logger"] == "handlers.inbound"
    assert line["message"] == msg % args
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert {k: line[k] for k in logs.IDS if k in line} == ids


def test_an_exception_goes_in_its_field_on_the_same_line():
    try:
        raise ValueError("rusak")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "outbound %s: boom", (5,), sys.exc_info())
    text = logs.JsonFormatter().format(record)
    assert "\n" not in text and "ValueError: rusak" in json.loads(text)["exception"]


def test_a_wrong_log_format_is_refused_at_start():
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.gunicorn_config("xml")
    factory = logs.gunicorn_config("json")["formatters"]["gateway"]["()"]  # gunicorn's master imports it
    module, _, name = factory.rpartition(".")
    assert getattr(__import__(module), name) is logs.JsonFormatter


def test_processing_a_message_logs_json_without_its_number_or_text(gateway):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        sid = new_sid()
        gateway.sms("NTT jembatan putus di Desa Oelnasi", sid=sid)
        gateway.drain()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert any(line.get("message_id") == sid for line in lines)
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    text = stream.getvalue()
    assert CITIZEN not in text and CITIZEN[1:] not in text and "Oelnasi" not in text


def test_the_worker_logs_json_lines_only(make_gateway, tmp_path):
    """Every line the worker writes, RQ's own included, is a JSON line."""
    gateway = make_gateway()
    gateway.sms("NTT lampu jalan mati di Oebobo")
    env = {**os.environ, **gateway_env(gateway.services.settings.database_url, tmp_path, gateway.twilio),
           "LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=ROOT, env=env, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(text) for text in done.stderr.splitlines() if text.strip()]
    assert lines and {"handlers.inbound", "gateway.sender"} <= {line["logger"] for line in lines}
    assert any("outbound_id" in line for line in lines)
    assert "+6281234567890" not in done.stderr and "lampu jalan" not in done.stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("sid", ["SM1\nINFO admin logged in", "SM1\u2028x", "SM1\r\x85\x1b[31m", "SM\x00"])
def test_a_value_from_outside_cannot_end_or_forge_a_line(log_format, sid):
    """An unsigned request's MessageSid is logged with its refusal: whatever it holds, one line."""
    record = logging.LogRecord("gateway.webhook", logging.WARNING, __file__, 1, "webhook %s: bad signature, refused",
                               (sid,), None)
    text = logs.formatter(log_format).format(record)
    assert len(text.splitlines()) == 1 and text.isprintable()
    if log_format == "json":
        assert json.loads(text)["message"].startswith("webhook SM")
