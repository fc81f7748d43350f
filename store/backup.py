"""Backups: the database and the media store in one dated folder, and their restore.

PostgreSQL through `pg_dump` (its custom format, a consistent snapshot taken while the gateway
runs) and `pg_restore`; SQLite through its online backup API, which copies a consistent state
while others write. The media store is copied file by file. A manifest says what the folder holds:
the database kind, the schema's revision and the rows of each table, so that a restore can be
checked. docs/operations.md, Backups.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import inspect, make_url, text

from store import migrate
from store.db import Database

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


class BackupError(RuntimeError):
    pass


def backup(db: Database, media_dir: Path, into: Path) -> Path:
    """Write a backup folder under `into`, named by the time (UTC); return it."""
    made = datetime.now(timezone.utc)
    folder = into / f"gateway-{made:%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True)
    if db.is_sqlite:
        _sqlite_copy(db.sqlite_file, folder / SQLITE_FILE)
    else:
        _pg("pg_dump", db, "--format=custom", "--no-owner", "--no-privileges", "--no-comments",
            f"--file={folder / PG_FILE}")
    files = 0
    if media_dir.is_dir():
        shutil.copytree(media_dir, folder / "media")
        files = sum(1 for p in (folder / "media").rglob("*") if p.is_file())
    manifest = {"made_at": made.isoformat(timespec="seconds"), "database": db.engine.dialect.name,
                "revision": _revision(db), "rows": rows(db), "media_files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


def restore(db: Database, media_dir: Path, folder: Path) -> dict:
    """Restore a backup folder into an empty database (and the media store); return its manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} is not a backup of the gateway (no readable {MANIFEST})") from exc
    kind = db.engine.dialect.name
    if manifest["database"] != kind:
        raise BackupError(f"a backup of {manifest['database']} cannot be restored into {kind}")
    if not _blank(db):
        raise BackupError("the database holds tickets, messages or officers: restore into a new, empty one")
    _clear(db)
    if db.is_sqlite:
        _sqlite_copy(folder / SQLITE_FILE, db.sqlite_file)
    else:
        _pg("pg_restore", db, "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={_pg_name(db)}",
            str(folder / PG_FILE))
    if (folder / "media").is_dir():
        shutil.copytree(folder / "media", media_dir, dirs_exist_ok=True)
    found = rows(db)
    if found != manifest["rows"]:
        raise BackupError(f"restored rows differ from the backup's: {found} against {manifest['rows']}")
    return manifest


def rows(db: Database) -> dict[str, int]:
    """The rows of each of the gateway's tables."""
    from store.models import Base

    with db.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return {t.name: conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar()
                for t in Base.metadata.sorted_tables if t.name in present}


def _blank(db: Database) -> bool:
    """Whether the database holds nothing of anyone's: no table, or only the schema a start of the
    gateway made (the flask command that restores is such a start) with its zero counts."""
    with db.engine.connect() as conn:
        if migrate.is_empty(conn):
            return True
        if migrate.current(conn) is None:
            return False
        counted = conn.execute(text("SELECT coalesce(sum(n), 0) FROM state_counts")).scalar()
    return counted == 0 and all(n == 0 for table, n in rows(db).items() if table != "state_counts")


def _clear(db: Database) -> None:
    """Remove the blank schema, so that the backup's own comes in whole."""
    if db.is_sqlite:
        db.dispose()  # no connection of ours on the file while it is replaced
        for suffix in ("", "-wal", "-shm"):
            db.sqlite_file.with_name(db.sqlite_file.name + suffix).unlink(missing_ok=True)
        return
    from store.models import Base

    with db.engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.dispose()


def _revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return migrate.current(conn)


def _sqlite_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _pg_name(db: Database) -> str:
    return make_url(db.url).database or ""


def _pg(tool: str, db: Database, *args: str) -> None:
    """Run pg_dump or pg_restore on the gateway's database; the password goes in the environment,
    never on a command line that `ps` shows."""
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (apt-get install postgresql-client)")
    url = make_url(db.url)
    env = {**os.environ, "PGHOST": url.host or "", "PGPORT": str(url.port or 5432), "PGUSER": url.username or "",
           "PGPASSWORD": url.password or "", "PGDATABASE": url.database or ""}
    done = subprocess.run([tool, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[-500:]}")
