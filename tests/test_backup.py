"""flask backup / restore: a backup restored into an empty database gives back every row and file."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from store import backup, migrate
from store.db import Database
from store.models import Attachment, Base
from tests.conftest import POSTGRES_URL


def _contents(db: Database) -> dict[str, list]:
    with db.engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t.name} ORDER BY 1, 2"))]
                for t in Base.metadata.sorted_tables}


@pytest.fixture
def empty_url(database_url, tmp_path):
    """A second database, empty, of the same kind."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'gateway.db'}"
    name = "test_restore"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def test_a_backup_restored_into_an_empty_database_gives_back_every_row_and_file(gateway, empty_url, tmp_path):
    from app import create_app
    from tests.conftest import gateway_env

    gateway.converse("NTT jalan rusak di Oesapa, mohon diperbaiki")
    gateway.converse("NTT lampu jalan mati di Kelapa Lima", frm="+6281311112222")
    media = gateway.services.settings.media_dir
    (media / "2026-12").mkdir(parents=True)
    (media / "2026-12" / "foto.jpg").write_bytes(b"\xff\xd8jpeg" * 100)
    with gateway.services.db.transaction() as s:
        inbound_id = s.execute(text("SELECT min(id) FROM inbound_messages")).scalar()
        s.add(Attachment(inbound_id=inbound_id, position=0, source_url="https://api.twilio.com/x",
                         content_type="image/jpeg", path="2026-12/foto.jpg", size=800))
    folder = gateway.app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups")])
    assert folder.exit_code == 0, folder.output
    made = next((tmp_path / "backups").iterdir())
    assert (made / "media" / "2026-12" / "foto.jpg").exists()

    # The restore runs as an operator would: the flask command of a gateway pointed at the new database,
    # whose start makes the (blank) schema first.
    restored_media = tmp_path / "restored-media"
    target = create_app(gateway_env(empty_url, tmp_path, gateway.twilio, MEDIA_DIR=str(restored_media)))
    done = target.test_cli_runner().invoke(args=["restore", str(made)])
    assert done.exit_code == 0, done.output
    restored = Database(empty_url)
    assert _contents(restored) == _contents(gateway.services.db)
    assert (restored_media / "2026-12" / "foto.jpg").read_bytes() == (media / "2026-12" / "foto.jpg").read_bytes()
    with restored.engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    again = target.test_cli_runner().invoke(args=["restore", str(made)])  # now it holds tickets: refused
    assert again.exit_code != 0 and "restore into a new, empty one" in again.output
    restored.dispose()
    target.extensions["ingestor"].close()
    target.extensions["gateway"].db.dispose()


def test_a_folder_that_is_no_backup_is_refused(gateway, tmp_path):
    with pytest.raises(backup.BackupError, match="not a backup"):
        backup.restore(gateway.services.db, tmp_path / "media", tmp_path)
