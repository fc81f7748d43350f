"""Approval up the hierarchy (berjenjang): the levels of service.toml approve a draft in turn, each may
correct or return it, only the level it waits at sees it, and one level stays the default."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from config import ConfigError, load_service
from handlers import officers, tasks, workflow
from handlers.workflow import Forbidden
from store.db import now
from store.models import Notice, Role, TicketEvent, TicketState as S
from tests.test_workflow import SERVICE, World

LEVELS = {"kasubag": "Kepala Subbagian Kelembagaan", "kabag": "Kepala Bagian Organisasi",
          "karo": "Kepala Biro Organisasi", "sekda": "Sekretaris Daerah Provinsi NTT"}
HIERARCHY = dataclasses.replace(SERVICE, agencies={**SERVICE.agencies, "biro-organisasi": dataclasses.replace(
    SERVICE.agencies["biro-organisasi"], levels=LEVELS,
    chains={"default": ("kasubag", "kabag", "karo"), "surat": ("kasubag", "kabag", "karo", "sekda")})})


def _heads(w, s):
    heads = {}
    for level in LEVELS:
        head = w.officer(Role.HEAD)
        officers.set_post(s, HIERARCHY, head.username, "", level)
        heads[level] = head
    return heads


def _submitted(w, s, channel="sms"):
    official = w.officer(Role.OFFICIAL)
    t = w.ticket(S.DRAF, channel=channel, draft="Jalan diperbaiki Januari.")
    t.assignee_id = official.id
    workflow.ajukan(s, official, t, HIERARCHY)
    return t, official


def _able(officer, t):
    return {a.name for a in workflow.allowed(officer, t, HIERARCHY)} & {"setujui", "kembalikan"}


def test_each_level_approves_in_turn_and_only_the_level_it_waits_at(db):
    with db.transaction() as s:
        w = World(s)
        heads = _heads(w, s)
        t, official = _submitted(w, s)
        for i, level in enumerate(("kasubag", "kabag", "karo")):
            assert t.state == S.MENUNGGU_PERSETUJUAN and t.approval_level == level
            for other, head in heads.items():  # offered to the level it waits at, refused to the others
                assert _able(head, t) == ({"setujui", "kembalikan"} if other == level else set())
                if other != level:
                    with pytest.raises(Forbidden):
                        workflow.setujui(s, head, t, HIERARCHY)
            # The level it reaches is told; Tugas saya lists it there and nowhere else.
            told = s.scalars(select(Notice.officer_id).where(Notice.ticket_id == t.id, Notice.kind == "approve")
                             .order_by(Notice.id.desc()).limit(1)).all()
            assert told == [heads[level].id]
            waiting = {lv for lv, head in heads.items()
                       if any(task.row.id == t.id for task in tasks.of(s, head, HIERARCHY, now()))}
            assert waiting == {level}
            workflow.setujui(s, heads[level], t, HIERARCHY)
        assert t.state == S.DISETUJUI and t.approved_by_id == heads["karo"].id and t.approval_level == ""
        notes = s.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == t.id, TicketEvent.action == "setujui")
                          .order_by(TicketEvent.id)).all()
        assert notes == ["disetujui Kepala Subbagian Kelembagaan, diteruskan ke Kepala Bagian Organisasi",
                         "disetujui Kepala Bagian Organisasi, diteruskan ke Kepala Biro Organisasi", ""]


def test_letters_go_up_to_the_sekda(db):
    with db.transaction() as s:
        w = World(s)
        heads = _heads(w, s)
        t, _ = _submitted(w, s, channel="surat")
        for level in ("kasubag", "kabag", "karo"):
            workflow.setujui(s, heads[level], t, HIERARCHY)
        assert (t.state, t.approval_level) == (S.MENUNGGU_PERSETUJUAN, "sekda")
        workflow.setujui(s, heads["sekda"], t, HIERARCHY)
        assert t.state == S.DISETUJUI and t.approved_by_id == heads["sekda"].id


def test_a_level_corrects_the_draft_as_it_approves(db):
    with db.transaction() as s:
        w = World(s)
        heads = _heads(w, s)
        t, _ = _submitted(w, s)
        workflow.setujui(s, heads["kasubag"], t, HIERARCHY, "", "Jalan diperbaiki pada 12 Januari 2027.")
        assert t.draft == "Jalan diperbaiki pada 12 Januari 2027." and t.approval_level == "kabag"
        note = s.scalar(select(TicketEvent.note).where(TicketEvent.action == "setujui"))
        assert note.startswith("dengan perbaikan; disetujui Kepala Subbagian")
        workflow.setujui(s, heads["kabag"], t, HIERARCHY, "", t.draft)  # the same text: no correction
        assert "perbaikan" not in s.scalars(select(TicketEvent.note).where(TicketEvent.action == "setujui")
                                            .order_by(TicketEvent.id.desc())).first()


def test_a_level_returns_the_draft_and_it_climbs_again_from_the_first(db):
    with db.transaction() as s:
        w = World(s)
        heads = _heads(w, s)
        t, official = _submitted(w, s)
        workflow.setujui(s, heads["kasubag"], t, HIERARCHY)
        workflow.kembalikan(s, heads["kabag"], t, "Sebutkan ruas jalannya")
        assert (t.state, t.approval_level, t.review_note) == (S.DRAF, "", "Sebutkan ruas jalannya")
        assert s.scalar(select(Notice.officer_id).where(Notice.kind == "returned")) == official.id
        workflow.ajukan(s, official, t, HIERARCHY, "Ruas Oesapa-Lasiana diperbaiki Januari.")
        assert t.approval_level == "kasubag"


def test_one_level_stays_the_default(db):
    with db.transaction() as s:
        w = World(s)
        head = w.officer(Role.HEAD)  # no level: any head approves at once
        official = w.officer(Role.OFFICIAL)
        t = w.ticket(S.DRAF, draft="x")
        t.assignee_id = official.id
        workflow.ajukan(s, official, t, SERVICE, "Jawaban")
        assert t.approval_level == ""
        workflow.setujui(s, head, t, SERVICE)
        assert t.state == S.DISETUJUI


def test_a_level_must_be_one_of_the_agencys(db):
    with db.transaction() as s:
        w = World(s)
        head, official = w.officer(Role.HEAD), w.officer(Role.OFFICIAL)
        with pytest.raises(officers.OfficerError, match="tidak dikenal"):
            officers.set_post(s, HIERARCHY, head.username, "", "bupati")
        with pytest.raises(officers.OfficerError, match="hanya untuk pimpinan"):
            officers.set_post(s, HIERARCHY, official.username, "", "kabag")
        with pytest.raises(officers.OfficerError, match="satu tingkat"):
            officers.set_post(s, SERVICE, head.username, "", "kabag")
        done = officers.set_post(s, HIERARCHY, head.username, "", "karo")  # the position: the level's, unless given
        assert (done.approval_level, done.position) == ("karo", "Kepala Biro Organisasi")


@pytest.mark.parametrize("table, error", [
    ('levels = { kabag = "Kabag" }\ndefault = ["kabag", "karo"]', "keys of approval.levels"),
    ('levels = { kabag = "Kabag" }', "default"),
    ('levels = { kabag = "Kabag" }\ndefault = []', "keys of approval.levels"),
])
def test_a_wrong_approval_table_is_refused_at_start(tmp_path: Path, table, error):
    path = tmp_path / "service.toml"
    path.write_text(f'[agencies.a]\nname = "A"\n[agencies.a.approval]\n{table}\n')
    with pytest.raises(ConfigError, match=error):
        load_service(path)


def test_the_approval_table_is_read_in_order(tmp_path: Path):
    path = tmp_path / "service.toml"
    path.write_text('[agencies.a]\nname = "A"\n[agencies.a.approval]\nlevels = { kasubag = "Kasubag", kabag = "Kabag",'
                    ' sekda = "Sekda" }\ndefault = ["kasubag", "kabag"]\nsurat = ["kasubag", "kabag", "sekda"]\n')
    agency = load_service(path).agencies["a"]
    assert agency.chain("sms") == ("kasubag", "kabag") and agency.chain("surat") == ("kasubag", "kabag", "sekda")
    assert agency.levels["sekda"] == "Sekda"
