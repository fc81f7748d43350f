"""The answer letter: printed from an approved answer on the agency's letterhead, under a number of the
agency's yearly counter in its configured format, never given twice."""
from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from config import ConfigError, Settings, load_service
from handlers import letters, officers, workflow
from replies.render import in_kupang
from store import migrate
from store.db import Database, now
from store.models import Letter, Officer, Role, Ticket, TicketEvent
from store.tickets import add_ticket, seed_counts
from tests.inbox_helpers import token
from tests.test_inbox import approved_answer, client_for, desk  # noqa: F401 (the fixture)

SERVICE = Settings.from_env({}).service
NUMBER = re.compile(r"Nomor</td><td>:</td><td>([^<]+)<")


def _print(client, code: str):
    response = client.post(f"/inbox/t/{code}/surat", data={"csrf_token": token(client, f"/inbox/t/{code}")})
    assert response.status_code == 303, response.status_code
    return response.location, client.get(response.location).get_data(as_text=True)


def test_the_letter_carries_the_approved_answer_under_the_agencys_number(desk):
    with desk.session() as s:
        head = s.scalar(select(Officer).where(Officer.username == "kepala"))
    with desk.services.db.transaction() as s:
        officers.set_post(s, SERVICE, "kepala", "Kepala Biro Organisasi", "")
        s.execute(Ticket.__table__.update().values(citizen_name="Maria Ndun", citizen_home="RT 05 Oesapa"))
    lia = client_for(desk, "lia")
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert "Cetak surat jawaban" not in page  # nothing approved yet
    response = lia.post(f"/inbox/t/{desk.code}/surat", data={"csrf_token": token(lia, f"/inbox/t/{desk.code}")})
    assert response.status_code == 303 and "/surat" not in response.location
    assert "setelah jawaban disetujui" in lia.get(response.location).get_data(as_text=True)

    lia = approved_answer(desk)
    assert "Cetak surat jawaban" in lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    where, letter = _print(lia, desk.code)
    local = in_kupang(now())
    year, month = local.year, letters.ROMAN[local.month - 1]
    assert NUMBER.search(letter).group(1) == f"1/BO/{month}/{year}"
    for text in ("PEMERINTAH PROVINSI NUSA TENGGARA TIMUR", "BIRO ORGANISASI", "Jl. Raya El Tari Nomor 52",
                 f"Kupang, {letters.long_date(now())}", "Sdr. Maria Ndun", "RT 05 Oesapa",
                 "Perbaikan jalan dijadwalkan minggu depan.", "Kepala Biro Organisasi,", head.full_name, desk.code):
        assert text in letter, text
    # Printed again, it keeps its number; the ticket lists it and its history says so.
    assert _print(lia, desk.code)[0] == where
    page = lia.get(f"/inbox/t/{desk.code}").get_data(as_text=True)
    assert f"Nomor 1/BO/{month}/{year}" in page
    with desk.session() as s:
        assert s.scalars(select(TicketEvent.note).where(TicketEvent.action == "surat")).all() == [
            f"surat jawaban nomor 1/BO/{month}/{year}"]
    # Another agency's officer does not see it.
    assert client_for(desk, "orangbppd").get(where).status_code == 404


def _approved_tickets(db: Database, n: int, agency: str = "biro-organisasi") -> tuple[int, list[str]]:
    with db.transaction() as s:
        seed_counts(s, list(SERVICE.agencies))
        head = officers.add(s, SERVICE, username=f"kepala-{agency}", agency=agency, roles=[Role.HEAD, Role.LIAISON],
                            password="kata-sandi-panjang", full_name="Kepala")
        found = []
        for i in range(n):
            t = add_ticket(s, Ticket(code=f"{20_000_000 + i * 7 + len(agency):08d}", agency=agency, line_id="",
                                     channel="surat", kind="pengaduan", phone=None, body="Jalan rusak",
                                     created_at=now(), due_at=now() + timedelta(days=7), draft=f"Jawaban {i}",
                                     approved_by_id=head.id, state="disetujui"))
            found.append(t.code)
        return head.id, found


def test_two_officers_printing_at_the_same_moment_never_share_a_number(database_url):
    db = Database(database_url)
    migrate.upgrade(db)
    head_id, found = _approved_tickets(db, 8)
    barrier, numbers, errors = threading.Barrier(len(found)), [], []

    def print_one(code):
        barrier.wait()
        try:
            letter_id = letters.issue(db, head_id, code, SERVICE)
            with db.sessions() as s:
                numbers.append(s.get(Letter, letter_id).seq)
        except Exception as exc:  # noqa: BLE001 - the test says which
            errors.append(exc)

    threads = [threading.Thread(target=print_one, args=(code,)) for code in found]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(numbers) == list(range(1, len(found) + 1))
    db.dispose()


def test_each_agency_counts_its_own_letters_and_a_new_year_starts_at_one(db):
    head_bo, [bo] = _approved_tickets(db, 1)
    with db.transaction() as s:  # Biro Organisasi's letters of last year, and the BPPD's of this one
        year = in_kupang(now()).year
        s.add_all([Letter(ticket_id=1, agency="biro-organisasi", year=year - 1, seq=412, number="412/BO/XII/x",
                          body=""),
                   Letter(ticket_id=1, agency="bppd", year=year, seq=30, number="30/BPPD/XII/x", body="")])
    with db.sessions() as s:
        first = s.get(Letter, letters.issue(db, head_bo, bo, SERVICE))
    assert (first.seq, first.year) == (1, year) and first.number.startswith("1/BO/")


def test_a_changed_answer_gets_a_letter_of_its_own(db):
    head, [code] = _approved_tickets(db, 1)
    first = letters.issue(db, head, code, SERVICE)
    with db.transaction() as s:
        s.scalar(select(Ticket).where(Ticket.code == code)).draft = "Jawaban yang diperbaiki"
    second = letters.issue(db, head, code, SERVICE)
    with db.sessions() as s:
        assert second != first and [s.get(Letter, i).seq for i in (first, second)] == [1, 2]


def test_another_agencys_ticket_gets_no_letter(db):
    _, [code] = _approved_tickets(db, 1)
    with db.transaction() as s:
        stranger = officers.add(s, SERVICE, username="orangbppd", agency="bppd", roles=[Role.LIAISON],
                                password="kata-sandi-panjang").id
    with pytest.raises(workflow.NotFound):
        letters.issue(db, stranger, code, SERVICE)


@pytest.mark.parametrize("pattern", ["{nomor}/BO/{year}", "BO/{month}/{year}", "{n}/{bulan}"])
def test_a_wrong_number_format_is_refused_at_start(tmp_path: Path, pattern):
    path = tmp_path / "service.toml"
    path.write_text(f'[agencies.a]\nname = "A"\nletter_number = "{pattern}"\n')
    with pytest.raises(ConfigError, match="letter_number"):
        load_service(path)


def test_an_admin_and_the_command_line_give_an_officer_a_position_and_a_level(desk, tmp_path):
    admin = client_for(desk, "admin")
    saved = admin.post("/inbox/petugas", data={"csrf_token": token(admin, "/inbox/petugas"),
                                               "username_jabatan": "kepala", "jabatan": "Kepala Biro Organisasi"})
    assert "Jabatan kepala tersimpan." in admin.get(saved.headers["Location"]).get_data(as_text=True)
    refused = admin.post("/inbox/petugas", data={"csrf_token": token(admin, "/inbox/petugas"),
                                                 "username_jabatan": "kepala", "jabatan": "", "tingkat": "kabag"})
    assert refused.status_code == 422 and "satu tingkat persetujuan" in refused.get_data(as_text=True)
    runner = desk.app.test_cli_runner()
    result = runner.invoke(args=["officers", "post", "kepala", "--position", "Kepala Biro Organisasi Setda NTT"])
    assert result.exit_code == 0 and "Kepala Biro Organisasi Setda NTT" in result.output
    assert runner.invoke(args=["officers", "post", "lia", "--level", "kabag"]).exit_code == 1
    with desk.session() as s:
        assert s.scalar(select(Officer.position).where(Officer.username == "kepala")) == \
            "Kepala Biro Organisasi Setda NTT"
