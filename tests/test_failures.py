"""Bad days: Redis down, the provider failing, callbacks out of order, opted-out numbers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from handlers.sweeper import sweep
from store.models import Contact, InboundMessage, OutboundMessage, Ticket
from tests.conftest import CITIZEN, SMS_LINE, WA_LINE, free_port, new_sid
from tests.fake_twilio import DROPPED, TAKEN_LATE, Failure


def outbound(gateway) -> OutboundMessage:
    with gateway.session() as s:
        return s.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc())).first()


def test_redis_down_at_ingest_then_the_sweeper_queues_it(make_gateway):
    down = make_gateway(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    response = down.sms("NTT jalan rusak di Kolhua")
    assert response.status_code == 200
    with down.session() as s:
        stored = s.scalars(select(InboundMessage)).one()
    assert stored.queued_at is None and stored.processed_at is None

    up = make_gateway()  # same database, Redis answering again
    assert up.services.queues.inbound.count == 0
    result = sweep(up.services)
    assert result.inbound == 1
    assert sweep(up.services).inbound == 0  # queued once, not twice
    up.drain()
    assert len(up.twilio.messages) == 1 and "Pengaduan Anda diterima" in up.twilio.messages[0].body


def test_a_long_redis_outage_uses_up_no_attempts(make_gateway):
    from handlers.sweeper import MAX_ATTEMPTS

    down = make_gateway(REDIS_URL="redis://127.0.0.1:1/0")
    down.sms("NTT jalan rusak di Kolhua")
    for _ in range(MAX_ATTEMPTS + 1):  # the sweeper runs every minute while Redis is down
        assert sweep(down.services).inbound == 0
    up = make_gateway()
    assert sweep(up.services).inbound == 1


def test_sweeper_requeues_a_lost_job_and_a_pending_send(gateway):
    from datetime import timedelta

    from store.queues import DRAIN_QUEUED, WAITING

    sweep(gateway.services)  # as a worker does at start (a Redis it finds empty is test_recovery's)
    gateway.sms("NTT puskesmas tutup siang hari")
    queues = gateway.services.queues
    queues.redis.delete(WAITING, DRAIN_QUEUED)  # the job is lost, though Redis kept the rest
    queues.inbound.empty()
    assert sweep(gateway.services).inbound == 0  # too early: it may still be on its way
    gateway.move_back(InboundMessage.queued_at, timedelta(minutes=11))
    assert sweep(gateway.services).inbound == 1
    gateway.twilio.fail_next(*[Failure(500)] * 4)
    gateway.drain()
    assert outbound(gateway).status == "failed"


def test_sweeper_queues_lost_messages_in_batches(make_gateway):
    down = make_gateway(REDIS_URL="redis://127.0.0.1:1/0")
    for i in range(3):
        down.sms(f"NTT lampu jalan mati di gang {i}", frm=f"+6281300000{i:03d}")
    up = make_gateway()
    assert sweep(up.services).inbound == 3
    assert up.services.queues.inbound.count == 1  # one job carries them, as at ingest
    up.drain()
    assert len(up.twilio.messages) == 3


def test_sweeper_queues_a_drain_job_lost_before_it_started(gateway):
    """A worker died holding the drain job: the mark of a queued job expires within a minute, and
    the sweeper's next round queues a new drain job for the messages still waiting."""
    from store.queues import DRAIN_QUEUED

    gateway.sms("NTT sampah tidak diangkut dua minggu")
    queues = gateway.services.queues
    queues.inbound.empty()  # the job is gone, its mark and the waiting message are not
    assert not sweep(gateway.services).drain  # the mark still stands: the job may be running
    queues.redis.delete(DRAIN_QUEUED)  # a minute later it has expired
    assert sweep(gateway.services).drain
    assert not sweep(gateway.services).drain  # queued once, not twice
    gateway.drain()
    assert len(gateway.twilio.messages) == 1


def test_redis_failing_to_queue_a_download_does_not_hold_back_the_reply(gateway, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def redis_gone(attachment_id):
        raise RedisConnectionError("Redis went away")

    photo = gateway.twilio.add_media("ME6", b"\xff\xd8\xff foto", "image/jpeg")
    monkeypatch.setattr(gateway.services.queues, "download", redis_gone)
    gateway.whatsapp("foto rumah rusak untuk bantuan", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    gateway.drain()
    assert len(gateway.twilio.messages) == 1  # the acknowledgement went out; the sweeper queues the file later
    assert outbound(gateway).status != "sending"


def test_sweeper_queues_a_lost_download_again(gateway):
    from datetime import timedelta


    from handlers import inbound
    from store.models import Attachment

    photo = gateway.twilio.add_media("ME7", b"\xff\xd8\xff foto", "image/jpeg")
    gateway.whatsapp("foto bantuan sembako yang rusak", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    gateway.services.queues.redis.flushdb()
    with gateway.session() as s:
        inbound_id = s.scalar(select(InboundMessage.id))
    inbound.process(gateway.services, inbound_id)  # processed; the download job never reached Redis
    assert sweep(gateway.services).downloads == 0  # too early: it may still be on its way
    gateway.move_back(InboundMessage.processed_at, timedelta(minutes=11))
    assert sweep(gateway.services).downloads == 1
    assert sweep(gateway.services).downloads == 0  # its job is in Redis now
    gateway.drain()
    with gateway.session() as s:
        kept = s.scalars(select(Attachment)).one()
    assert (gateway.services.settings.media_dir / kept.path).read_bytes() == b"\xff\xd8\xff foto"


def test_messages_the_sweeper_gave_up_on_are_shown_and_can_be_retried(gateway):
    """Processing that fails every attempt (a bug, a bad row) leaves the message stored, counted in
    /healthz and listed for the operator, who can hand it back to the sweeper once it is fixed."""
    from datetime import timedelta

    from sqlalchemy import update

    from handlers.sweeper import MAX_ATTEMPTS
    from store.db import now

    gateway.sms("NTT pelayanan KTP lambat sekali", frm="+6281298765432")
    gateway.services.queues.redis.flushdb()
    with gateway.services.db.transaction() as s:  # on its last attempt
        s.execute(update(InboundMessage).values(attempts=MAX_ATTEMPTS))
    assert gateway.client.get("/healthz").get_json()["unprocessed"] == 0  # it may still succeed
    with gateway.services.db.transaction() as s:  # every attempt failed, the last one long ago
        s.execute(update(InboundMessage).values(queued_at=now() - timedelta(hours=1)))
    assert sweep(gateway.services).inbound == 0
    assert gateway.client.get("/healthz").get_json()["unprocessed"] == 1
    runner = gateway.app.test_cli_runner()
    listed = runner.invoke(args=["unprocessed"]).output
    assert "+6281***432" in listed and "6281298765432" not in listed and "KTP" not in listed

    assert "1 message(s) handed back" in runner.invoke(args=["unprocessed", "--retry"]).output
    assert sweep(gateway.services).inbound == 1
    gateway.drain()
    assert "Pengaduan Anda diterima" in gateway.twilio.messages[-1].body
    assert gateway.client.get("/healthz").get_json()["unprocessed"] == 0


@pytest.mark.parametrize("failures", [
    [Failure(500)], [Failure(503)], [Failure(429, 20429, "Too Many Requests")], [Failure(0)],
    [Failure(500), Failure(429), Failure(0)],
])
def test_transient_provider_errors_are_retried(gateway, failures):
    gateway.twilio.fail_next(*failures)
    gateway.sms("NTT sampah menumpuk di pasar Oeba")
    gateway.drain()
    assert len(gateway.twilio.messages) == 1
    assert gateway.twilio.attempts == len(failures) + 1
    row = outbound(gateway)
    assert row.status == "queued" and row.attempts == len(failures) + 1


def test_retries_used_up_are_shown_as_failed_with_the_reason(gateway):
    gateway.twilio.fail_next(*[Failure(500)] * 10)
    gateway.sms("NTT sampah menumpuk di pasar Oeba")
    gateway.drain()
    row = outbound(gateway)
    assert gateway.twilio.attempts == 4  # the first try and three retries (SEND_RETRY_INTERVALS)
    assert row.status == "failed" and row.error_code == "500"
    assert "Gagal setelah beberapa percobaan" in row.error_message
    assert len(gateway.services.queues.outbound.failed_job_registry) == 1


@pytest.mark.parametrize("code, reason, opted_out", [
    (21211, "Nomor tujuan tidak valid", False),
    (21610, "berhenti berlangganan", True),
    (63016, "jendela 24 jam", False),
    (63027, "template_sid", False),  # the template is not (or no longer) approved: for the operator to mend
    (21656, "template_sid", False),
])
def test_final_provider_errors_are_recorded_once(gateway, code, reason, opted_out):
    assert gateway.client.get("/healthz").get_json()["failed_sends"] == 0
    gateway.twilio.fail_next(Failure(400, code, "rejected"))
    gateway.sms("NTT air PDAM keruh")
    gateway.drain()
    row = outbound(gateway)
    assert gateway.twilio.attempts == 1
    assert row.status == "failed" and row.error_code == str(code) and reason in row.error_message
    # For monitoring: many in an hour is the account refused (401), or its balance spent
    assert gateway.client.get("/healthz").get_json()["failed_sends"] == 1
    with gateway.session() as s:
        contact = s.get(Contact, CITIZEN)
        assert bool(contact and contact.opted_out) is opted_out


def status_callback(gateway, row: OutboundMessage, status: str, error_code: str = "", signature=None):
    params = {"MessageSid": row.provider_sid, "MessageStatus": status, "AccountSid": "AC1", "To": row.to_address}
    if error_code:
        params["ErrorCode"] = error_code
    return gateway.post("/webhooks/twilio/status", params, query=f"o={row.id}", signature=signature)


def test_status_moves_forward_only(gateway):
    gateway.converse("NTT lampu jalan mati")
    row = outbound(gateway)
    for status, expected in [("sent", "sent"), ("delivered", "delivered"), ("sent", "delivered"),
                             ("queued", "delivered"), ("read", "read"), ("delivered", "read")]:
        assert status_callback(gateway, row, status).status_code == 200
        assert outbound(gateway).status == expected


def test_failed_callback_keeps_the_error_code(gateway):
    gateway.converse("NTT lampu jalan mati")
    row = outbound(gateway)
    status_callback(gateway, row, "sent")
    status_callback(gateway, row, "undelivered", "30003")
    status_callback(gateway, row, "sent")
    row = outbound(gateway)
    assert row.status == "undelivered" and row.error_code == "30003" and "tidak aktif" in row.error_message


def test_callback_before_the_sid_is_known(gateway):
    """Twilio may call back before the send job has written the sid: the row id in the URL finds it."""
    gateway.converse("NTT lampu jalan mati")
    row = outbound(gateway)
    with gateway.services.db.transaction() as s:
        s.get(OutboundMessage, row.id).provider_sid = None
    row.status = "queued"
    assert status_callback(gateway, row, "delivered").status_code == 200
    assert outbound(gateway).status == "delivered" and outbound(gateway).provider_sid == row.provider_sid


def test_opted_out_callback_marks_the_number(gateway):
    gateway.converse("NTT lampu jalan mati")
    status_callback(gateway, outbound(gateway), "failed", "21610")
    with gateway.session() as s:
        assert s.get(Contact, CITIZEN).opted_out
    sent = len(gateway.twilio.messages)
    gateway.sms("INFO")
    gateway.drain()
    assert len(gateway.twilio.messages) == sent


def test_status_callback_needs_a_signature(gateway):
    gateway.converse("NTT lampu jalan mati")
    row = outbound(gateway)
    assert status_callback(gateway, row, "delivered", signature="forged").status_code == 403
    assert outbound(gateway).status == "queued"


def test_unknown_status_callback_is_harmless(gateway):
    params = {"MessageSid": new_sid(), "MessageStatus": "delivered"}
    assert gateway.post("/webhooks/twilio/status", params).status_code == 200


def test_healthz(make_gateway):
    gateway = make_gateway()
    assert gateway.client.get("/healthz").get_json() == {"database": "ok", "redis": "ok", "sandbox": False,
                                                         "waiting": 0, "unprocessed": 0, "failed_sends": 0}
    gateway.sms("NTT jalan rusak")
    assert gateway.client.get("/healthz").get_json()["waiting"] == 1  # workers behind: operators see it
    gateway.drain()
    assert gateway.client.get("/healthz").get_json()["waiting"] == 0
    down = make_gateway(REDIS_URL="redis://127.0.0.1:1/0").client.get("/healthz")
    assert down.status_code == 503 and down.get_json()["redis"].startswith("down")


def test_a_sender_that_is_not_a_phone_number_is_kept_without_reply(gateway):
    assert gateway.sms("NTT tes", frm="TELKOMSEL").status_code == 200
    gateway.drain()
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.intent)).one() == "unreadable_sender"
        assert s.scalar(select(Ticket.id)) is None
    assert gateway.twilio.messages == []


def test_a_message_to_a_number_no_line_takes_is_kept_and_the_number_logged(make_gateway, tmp_path, caplog):
    """An office that binds its line to one number: a message to another of its numbers is a
    configuration gap an operator must see (the office's number is logged; the citizen's is not)."""
    from config import DEFAULT_SERVICE_FILE

    service = tmp_path / "service.toml"
    default = DEFAULT_SERVICE_FILE.read_text()
    assert 'channel = "sms"\nto = "*"' in default
    service.write_text(default.replace('channel = "sms"\nto = "*"', 'channel = "sms"\nto = "+621708"'))
    gateway = make_gateway(SERVICE_CONFIG=str(service))
    assert gateway.sms("NTT jalan rusak", to="+621709").status_code == 200
    with caplog.at_level("WARNING"):
        gateway.drain()
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.intent)).one() == "no_line"
    assert gateway.twilio.messages == []
    assert "+621709" in caplog.text and CITIZEN not in caplog.text


def test_missing_media_is_explained_in_the_record(gateway):
    gone = gateway.twilio.url + f"/2010-04-01/Accounts/{'AC' + '0' * 31 + '1'}/Messages/MM1/Media/ME404"
    unreachable = "http://127.0.0.1:1/media/ME500"  # nothing listens: retried, then given up
    gateway.whatsapp("foto jalan", NumMedia="2", MediaUrl0=gone, MediaContentType0="image/jpeg",
                     MediaUrl1=unreachable, MediaContentType1="image/jpeg")
    gateway.drain()
    from store.models import Attachment

    with gateway.session() as s:
        first, second = s.scalars(select(Attachment).order_by(Attachment.position)).all()
    assert first.path == "" and first.error == "HTTP 404 dari penyedia"
    assert second.path == "" and "setelah beberapa percobaan" in second.error
    assert len(gateway.twilio.messages) == 1  # the citizen's acknowledgement is not held up by the files


def test_oversized_and_cut_off_files_are_explained_and_leave_nothing_behind(gateway, monkeypatch):
    from handlers import media
    from store.models import Attachment

    monkeypatch.setattr(media, "MAX_BYTES", 1000)
    big = gateway.twilio.add_media("MEbig", b"x" * 1001, "application/pdf")
    cut = gateway.twilio.add_media("MEcut", b"y" * 500, "image/jpeg", cut_off=True)
    gateway.whatsapp("dokumen KK dan foto rumah", NumMedia="2", MediaUrl0=big, MediaContentType0="application/pdf",
                     MediaUrl1=cut, MediaContentType1="image/jpeg")
    gateway.drain()
    with gateway.session() as s:
        first, second = s.scalars(select(Attachment).order_by(Attachment.position)).all()
    assert first.path == "" and "lebih dari 20 MB" in first.error
    assert second.path == "" and "setelah beberapa percobaan" in second.error
    assert sum(r["path"].endswith("/MEcut") for r in gateway.twilio.media_requests) > 1  # retried
    assert [p for p in gateway.services.settings.media_dir.rglob("*") if p.is_file()] == []


def test_jobs_have_time_for_a_slow_provider(make_gateway):
    """RQ stops a job that runs past its timeout: a full batch whose every send waits for the
    provider's timeout (to connect, then to read) must still fit."""
    from store.queues import DRAIN_MAX, JOB_BATCH

    gateway = make_gateway(TWILIO_HTTP_TIMEOUT="30")
    queues = gateway.services.queues
    queues.process_inbound(*range(1, JOB_BATCH + 1))
    queues.wake_drain()
    queues.send(1)
    [processing, draining], [sending] = queues.inbound.jobs, queues.outbound.jobs
    assert processing.timeout >= JOB_BATCH * 2 * 30
    assert draining.timeout >= DRAIN_MAX * 2 * 30
    assert sending.timeout >= 2 * 30


THREE_PHONES = [f"+6281300000{i:03d}" for i in range(3)]


def three_messages_the_second_failing(gateway, monkeypatch):
    """Store a message from each of THREE_PHONES, whose processing fails for the second;
    return their ids and a function that ends the failure."""
    from handlers import inbound

    for phone in THREE_PHONES:
        gateway.sms(f"NTT jalan berlubang di gang {phone[-1]}", frm=phone)
    with gateway.session() as s:
        ids = s.scalars(select(InboundMessage.id).order_by(InboundMessage.id)).all()
    process = inbound.process

    def database_hiccup(services, inbound_id):
        if inbound_id == ids[1]:
            raise RuntimeError("database went away")
        return process(services, inbound_id)

    monkeypatch.setattr(inbound, "process", database_hiccup)
    return ids, lambda: monkeypatch.setattr(inbound, "process", process)


def test_a_failing_message_does_not_hold_up_its_batch(gateway, monkeypatch):
    from rq.registry import ScheduledJobRegistry

    ids, recover = three_messages_the_second_failing(gateway, monkeypatch)
    queues = gateway.services.queues
    queues.redis.flushdb()  # drop the drain job: this is about a job that carries ids
    queues.process_inbound(*ids)
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == [THREE_PHONES[0], THREE_PHONES[2]]
    assert ScheduledJobRegistry(queue=queues.inbound).count == 1  # the job raised: RQ retries it

    recover()
    queues.process_inbound(*ids)  # the retry, with the same ids
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == THREE_PHONES


def test_a_message_failing_in_a_drain_gets_a_job_of_its_own_that_rq_retries(gateway, monkeypatch):
    from rq.registry import ScheduledJobRegistry

    ids, recover = three_messages_the_second_failing(gateway, monkeypatch)
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == [THREE_PHONES[0], THREE_PHONES[2]]
    queues = gateway.services.queues
    [retry] = ScheduledJobRegistry(queue=queues.inbound).get_job_ids()
    assert queues.inbound.fetch_job(retry).args == (ids[1],)

    recover()
    queues.process_inbound(ids[1])  # what RQ runs when the retry is due
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == THREE_PHONES


def test_a_job_out_of_time_stops_instead_of_carrying_on(gateway, monkeypatch):
    """RQ stops a job past its timeout by raising inside it: that is not one message's failure
    to step over, or the job would run on unbounded. What it did not reach, the sweeper finds."""
    from rq.timeouts import JobTimeoutException

    from handlers import inbound

    for i in range(2):
        gateway.sms(f"NTT air PDAM mati hari ke-{i}", frm=f"+6281300000{i:03d}")
    reached = []

    def out_of_time(services, inbound_id):
        reached.append(inbound_id)
        raise JobTimeoutException("job exceeded its maximum run time")

    monkeypatch.setattr(inbound, "process", out_of_time)
    gateway.drain()
    assert len(reached) == 1 and gateway.twilio.messages == []


def test_redis_failing_to_queue_the_drain_job_does_not_hold_back_the_next(gateway, monkeypatch):
    """The mark of a queued drain job goes when its job could not be queued; the next message
    (onto a list that is not empty) still queues one, which takes both (the first is also left
    for the sweeper)."""
    from redis.exceptions import ConnectionError

    from store.queues import DRAIN_QUEUED

    queues = gateway.services.queues
    enqueue = queues.inbound.enqueue

    def refused(*args, **kwargs):
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(queues.inbound, "enqueue", refused)
    assert gateway.sms("NTT lampu jalan mati", frm="+6281300000001").status_code == 200
    with gateway.session() as s:
        assert s.scalars(select(InboundMessage.queued_at)).one() is None
    assert not queues.redis.exists(DRAIN_QUEUED)

    monkeypatch.setattr(queues.inbound, "enqueue", enqueue)
    gateway.sms("NTT jalan berlubang", frm="+6281300000002")
    assert queues.inbound.count == 1
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages) == ["+6281300000001", "+6281300000002"]


@pytest.mark.parametrize("went", [False, True])
def test_a_send_left_by_a_dead_worker_is_checked_with_the_provider(gateway, went):
    """The reply is claimed in the processing transaction: a worker dying before or after the provider
    call leaves it 'sending'. The sweeper asks the provider: found, it is recorded as sent; not found,
    it is sent. Either way the citizen gets it once, within a minute of the death."""
    from handlers import inbound

    gateway.sms("NTT jembatan Liliba retak")
    gateway.services.queues.redis.flushdb()
    with gateway.session() as s:
        inbound_id = s.scalar(select(InboundMessage.id))
    outcome = inbound.process(gateway.services, inbound_id)  # committed; then the worker dies
    if went:  # ... after the provider took the message, before the answer was recorded
        gateway.services.sender.provider.send(to=CITIZEN, from_=SMS_LINE, body=outcome.claims[0].body,
                                              status_callback=None)
    assert outbound(gateway).status == "sending"
    assert sweep(gateway.services).abandoned == 0  # a live sender may still hold it
    gateway.move_back(OutboundMessage.updated_at, timedelta(seconds=2 * 0.5 + 11))  # TWILIO_HTTP_TIMEOUT 0.5
    assert sweep(gateway.services).abandoned == 1
    gateway.drain()
    row = outbound(gateway)
    assert len(gateway.twilio.messages) == 1 and gateway.twilio.attempts == 1
    assert row.status in ("queued", "sent") and row.provider_sid == gateway.twilio.messages[0].sid


@pytest.mark.parametrize("failure", [Failure(TAKEN_LATE), Failure(DROPPED), Failure(0)])
def test_a_send_of_unknown_outcome_is_asked_about_before_it_is_sent_again(gateway, failure):
    """A read timeout or a dropped connection leaves it unknown whether the provider took the message:
    the retry asks the provider (its Message list for that number since the send began) and records
    the message found, or sends only when none is there."""
    gateway.twilio.fail_next(failure)
    gateway.sms("NTT sampah menumpuk di pasar Oeba")
    gateway.drain()
    row = outbound(gateway)
    assert len(gateway.twilio.messages) == 1, "sent once"
    assert row.provider_sid == gateway.twilio.messages[0].sid and row.unsure_since is not None
    assert gateway.twilio.attempts == (1 if failure.status == TAKEN_LATE else 2)


def test_a_send_that_never_reached_the_provider_is_retried_at_once(gateway):
    """Connection refused: nothing was sent, so nothing is asked; the retry sends."""
    from gateway.provider import RetryableError, UnknownOutcome

    provider = gateway.services.sender.provider
    provider.client.api.base_url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    with pytest.raises(RetryableError) as refused:
        provider.send(to=CITIZEN, from_=SMS_LINE, body="x", status_callback=None)
    assert not isinstance(refused.value, UnknownOutcome)
    gateway.twilio.fail_next(Failure(TAKEN_LATE))
    provider.client.api.base_url = gateway.twilio.url
    with pytest.raises(UnknownOutcome):
        provider.send(to=CITIZEN, from_=SMS_LINE, body="x", status_callback=None)


def test_an_unknown_outcome_on_the_last_try_is_asked_about_before_it_is_shown_failed(gateway):
    gateway.twilio.fail_next(Failure(500), Failure(500), Failure(500), Failure(TAKEN_LATE))
    gateway.sms("NTT sampah menumpuk di pasar Oeba")
    gateway.drain()
    row = outbound(gateway)
    assert gateway.twilio.attempts == 4 and len(gateway.twilio.messages) == 1
    assert row.status == "sent" and row.provider_sid == gateway.twilio.messages[0].sid


def test_messages_received_while_the_webhook_was_down_are_backfilled(gateway):
    taken = new_sid()
    gateway.sms("NTT lampu jalan mati di Oesapa", sid=taken)  # the webhook took this one
    gateway.drain()
    acknowledged = len(gateway.twilio.messages)
    gateway.twilio.messages.clear()  # listed as outbound: not the citizens'
    # What Twilio kept meanwhile: the message above again, two the webhook never stored, one before.
    gateway.twilio.receive(CITIZEN, SMS_LINE, "NTT lampu jalan mati di Oesapa", sid=taken)
    sent = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)
    gateway.twilio.receive("+6285333444555", SMS_LINE, "NTT air PDAM mati tiga hari di Oebobo", sent=sent)
    gateway.twilio.add_media("ME9", b"\xff\xd8 foto kartu", "image/jpeg")
    gateway.twilio.receive("whatsapp:+6285333444666", WA_LINE, "Bantuan PKH ibu saya belum cair", media=("ME9",))
    gateway.twilio.receive("+6285333444777", SMS_LINE, "NTT lama", sent=datetime.now(timezone.utc) - timedelta(days=2))

    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    result = gateway.app.test_cli_runner().invoke(args=["backfill", "--since", since])
    assert result.exit_code == 0, result.output
    assert "3 message(s) received" in result.output and "2 had not been stored" in result.output
    gateway.drain()
    assert acknowledged == 1
    assert sorted(m.to for m in gateway.twilio.messages) == ["+6285333444555", "whatsapp:+6285333444666"]
    assert all("diterima. Kode:" in m.body for m in gateway.twilio.messages)
    with gateway.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 3
        # the deadline counts from when the citizen sent it, not from the backfill
        assert s.scalar(select(Ticket.created_at).where(Ticket.phone == "+6285333444555")) == sent.replace(tzinfo=None)
        assert len(gateway.twilio.media_requests) == 1 and gateway.twilio.media_requests[0]["authorized"]


def test_backfill_refuses_a_time_it_cannot_read(gateway):
    result = gateway.app.test_cli_runner().invoke(args=["backfill", "--since", "kemarin"])
    assert result.exit_code != 0 and "2026-11-22 08:00" in result.output


def test_acknowledgements_refused_with_the_account_are_sent_again_once_it_is_mended(gateway):
    """A wrong auth token (401, 20003) fails every reply for good, each a citizen left without a code:
    before, only an officer's answer could be sent again (from the inbox)."""
    gateway.twilio.fail_next(Failure(401, 20003, "Authenticate"), Failure(401, 20003, "Authenticate"))
    gateway.sms("NTT air PDAM keruh di Oebobo")
    gateway.whatsapp("Mohon data penerima BLT Kelurahan Oebobo")
    gateway.sms("NTT lampu jalan mati", frm="+6285333444555")  # this one went out
    gateway.drain()
    assert len(gateway.twilio.messages) == 1
    with gateway.session() as s:
        assert sorted(s.scalars(select(OutboundMessage.error_code)).all()) == ["", "20003", "20003"]
    runner = gateway.app.test_cli_runner()
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    result = runner.invoke(args=["resend-failed", "--since", since, "--code", "20003"])
    assert result.exit_code == 0, result.output
    assert "2 automatic reply(ies) written again, 2 queued" in result.output
    gateway.drain()
    assert sorted(m.to for m in gateway.twilio.messages[1:]) == [CITIZEN, "whatsapp:" + CITIZEN]
    assert all("diterima. Kode:" in m.body for m in gateway.twilio.messages)
    # Once: what was sent again is not sent a third time; other codes and later times are left alone.
    assert "0 automatic" in runner.invoke(args=["resend-failed", "--since", since, "--code", "20003"]).output
    later = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    gateway.twilio.fail_next(Failure(401, 20003, "Authenticate"))
    gateway.sms("NTT jalan berlubang di Oesapa")
    gateway.drain()
    assert "0 automatic" in runner.invoke(args=["resend-failed", "--since", since, "--code", "21211"]).output
    assert "0 automatic" in runner.invoke(args=["resend-failed", "--since", later, "--code", "20003"]).output
    assert runner.invoke(args=["resend-failed", "--since", "kemarin", "--code", "20003"]).exit_code != 0

