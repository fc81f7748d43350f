"""/metrics: off without a token, closed to strangers, and counting what the gateway did and holds."""
from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from store.models import InboundMessage, OutboundMessage, Ticket
from tests.conftest import new_sid
from tests.fake_twilio import Failure
from tests.test_failures import status_callback

TOKEN = "rahasia-pemantauan-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def scrape(gateway) -> dict[tuple[str, tuple], float]:
    answer = gateway.client.get("/metrics", headers=BEARER)
    assert answer.status_code == 200 and answer.content_type.startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True)) for sample in family.samples}


def value(figures, name: str, **labels) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def watched(make_gateway):
    return make_gateway(METRICS_TOKEN=TOKEN, METRICS_ALLOW="10.20.0.0/16, 192.0.2.7")


def test_metrics_are_off_without_a_token(gateway):
    assert gateway.client.get("/metrics", headers=BEARER).status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("headers, address, status", [
    ({}, "127.0.0.1", 401),
    ({"Authorization": "Bearer salah"}, "127.0.0.1", 401),
    ({"Authorization": TOKEN}, "127.0.0.1", 401),  # without the scheme
    (BEARER, "127.0.0.1", 200),
    ({}, "10.20.3.4", 200),       # a listed network
    ({}, "192.0.2.7", 200),       # a listed address
    ({}, "192.0.2.8", 401),
])
def test_metrics_need_the_token_or_a_listed_address(watched, headers, address, status):
    answer = watched.client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == status
    if status == 401:
        assert b"gateway_" not in answer.data


def test_a_wrong_allow_list_stops_the_start(make_gateway):
    from config import ConfigError

    with pytest.raises(ConfigError, match="METRICS_ALLOW"):
        make_gateway(METRICS_TOKEN=TOKEN, METRICS_ALLOW="10.20.0.0/16, kantor")


def test_messages_in_and_out_are_counted_by_channel_line_and_status(watched):
    before = scrape(watched)
    sid = new_sid()
    watched.sms("NTT lampu jalan mati di Oesapa", sid=sid)
    watched.sms("NTT lampu jalan mati di Oesapa", sid=sid)  # Twilio delivering it again: counted once
    watched.whatsapp("Halo, bantuan sosial saya belum cair")
    watched.drain()
    after = scrape(watched)
    sms_line = watched.services.settings.service.line_for("sms", "+621708").id
    assert value(after, "gateway_inbound_messages_total", channel="sms", line=sms_line) \
        - value(before, "gateway_inbound_messages_total", channel="sms", line=sms_line) == 1
    assert sum(v - value(before, name, **dict(labels)) for (name, labels), v in after.items()
               if name == "gateway_inbound_messages_total" and ("channel", "whatsapp") in labels) == 1
    with watched.session() as s:
        row = s.query(OutboundMessage).filter(OutboundMessage.channel == "sms").first()
    for status in ("sent", "delivered", "delivered", "read"):  # repeated: counted once each
        status_callback(watched, row, status)
    counted = scrape(watched)
    for status in ("delivered", "read"):
        assert value(counted, "gateway_outbound_messages_total", channel="sms", status=status) \
            - value(after, "gateway_outbound_messages_total", channel="sms", status=status) == 1
    assert value(counted, "gateway_webhook_seconds_count") - value(before, "gateway_webhook_seconds_count") == 3


def test_send_failures_are_counted_by_code_and_a_final_failure_by_status(watched):
    before = scrape(watched)
    watched.twilio.fail_next(Failure(500), Failure(400, 21211, "invalid"))
    watched.sms("NTT jalan berlubang di Kolhua")
    watched.drain()
    after = scrape(watched)
    for code in ("500", "21211"):
        assert value(after, "gateway_send_failures_total", code=code) \
            - value(before, "gateway_send_failures_total", code=code) == 1
    assert value(after, "gateway_outbound_messages_total", channel="sms", status="failed") \
        - value(before, "gateway_outbound_messages_total", channel="sms", status="failed") == 1


def test_the_state_is_read_at_each_scrape(watched):
    watched.sms("NTT air PDAM mati tiga hari", frm="+6281300000001")
    watched.sms("NTT jalan rusak di Oebobo", frm="+6281300000002")
    figures = scrape(watched)  # stored, not yet processed
    assert value(figures, "gateway_unprocessed_messages") == 2
    assert value(figures, "gateway_queue_depth", queue="inbound-waiting") == 2
    watched.move_back(InboundMessage.received_at, timedelta(minutes=7))
    assert 420 <= value(scrape(watched), "gateway_oldest_unprocessed_seconds") < 480
    watched.drain()
    watched.move_back(Ticket.due_at, timedelta(days=30))  # both past their deadline
    figures = scrape(watched)
    assert value(figures, "gateway_unprocessed_messages") == 0
    assert value(figures, "gateway_oldest_unprocessed_seconds") == 0
    with watched.session() as s:
        agency = s.query(Ticket.agency).first()[0]
    assert value(figures, "gateway_tickets_open", agency=agency) == 2
    assert value(figures, "gateway_tickets_overdue", agency=agency) == 2
    assert value(figures, "gateway_database_up") == 1 and value(figures, "gateway_redis_up") == 1


def test_metrics_answer_with_redis_down(make_gateway):
    watched = make_gateway(METRICS_TOKEN=TOKEN, REDIS_URL="redis://127.0.0.1:1/0")
    figures = scrape(watched)
    assert value(figures, "gateway_redis_up") == 0 and value(figures, "gateway_database_up") == 1
    assert not any("+62" in str(labels) for (_, labels) in figures)  # no label holds a number


def test_the_dashboard_and_the_alerts_ask_for_figures_the_gateway_gives(watched):
    import json
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    dashboard = json.loads((docs / "grafana-dashboard.json").read_text())
    asked = {m for panel in dashboard["panels"] for target in panel["targets"]
             for m in re.findall(r"gateway_[a-z_]+", target["expr"])}
    asked |= set(re.findall(r"gateway_[a-z_]+", (docs / "operations.md").read_text()))
    watched.converse("NTT lampu jalan mati")
    watched.twilio.fail_next(Failure(500))
    watched.converse("NTT jalan rusak di Oebobo", frm="+6281300000003")
    with watched.session() as s:
        row = s.query(OutboundMessage).first()
    status_callback(watched, row, "delivered")
    given = {name for name, _ in scrape(watched)}
    given |= {re.sub(r"_(bucket|count|sum)$", "", name) for name in given}  # a histogram by its own name
    assert len(asked) >= 10 and asked <= given, asked - given
