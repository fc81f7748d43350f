"""The WSGI factory: configuration, database, Redis, blueprints, command line."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from flask import Flask, jsonify, redirect, url_for
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

import inbox
from config import Settings
from gateway import metrics, sandbox, webhook
from gateway.ingest import Ingestor, backfill
from gateway.provider import SandboxProvider, TwilioProvider
from gateway.sender import Sender
from handlers import clock, daily, officers, retention, runtime
from handlers.outbox import resend_failed
from handlers.sweeper import failed_sends, given_up, given_up_count, retry_given_up, sweep
from parsers import codes
from parsers.phone import mask, to_e164
from replies.render import WITA
from store import backup, migrate
from store.db import Database
from store.models import Role
from store.queues import Queues
from store.tickets import seed_counts

log = logging.getLogger(__name__)


def _moment(_ctx, param, value: str) -> datetime:
    """A --since option's time, WITA unless it gives an offset."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use the form '2026-11-22 08:00'", param_hint=f"--{param.name}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=WITA)


def _prepare(db: Database, agencies: list[str]) -> None:
    """Make a first start's schema; refuse a schema older than this release; boot without the database
    when it does not answer (the webhook answers 500 until it does, the worker retries its jobs).

    A command of the flask CLI (`db upgrade` among them) loads the app too: it is warned, not refused.
    """
    if not db.is_sqlite:  # a file always answers (and its first connection belongs under migrate's lock)
        try:
            db.engine.connect().close()
        except DBAPIError as exc:
            log.warning("the database does not answer (%s): starting without it", type(exc.orig).__name__)
            return
    try:
        migrate.ready(db)
    except migrate.SchemaBehind as exc:
        if click.get_current_context(silent=True) is None:
            raise
        log.warning("%s", exc)
        return
    with db.transaction() as s:
        seed_counts(s, agencies)


def create_app(config: Settings | Mapping[str, str] | None = None) -> Flask:
    """Build the gateway; config is a Settings, a mapping of environment names, or None for the environment."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = Settings.from_env(dict(config) if config is not None else None)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    if settings.proxy_count:  # the client address is what the proxies in front say it is
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count)
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it logs request details

    db = Database(settings.database_url)
    _prepare(db, list(settings.service.agencies))
    if settings.sandbox:
        provider, callback = SandboxProvider(), None
    else:
        provider = TwilioProvider(
            settings.twilio_account_sid, settings.twilio_auth_token,
            api_base_url=settings.twilio_api_base_url,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            timeout=settings.twilio_timeout,
        )
        callback = settings.public_base_url + "/webhooks/twilio/status"
    services = runtime.Services(
        settings=settings, db=db,
        queues=Queues(settings.redis_url, settings.retry_intervals, settings.twilio_timeout),
        sender=Sender(db, provider, callback),
    )
    runtime.install(services)
    app.extensions["gateway"] = services
    app.extensions["ingestor"] = Ingestor(db, services.queues)

    app.register_blueprint(webhook.bp)
    app.wsgi_app = webhook.InboundWebhook(app)
    if settings.sandbox:
        app.register_blueprint(sandbox.bp)
    inbox.init_app(app)
    app.register_blueprint(metrics.bp)

    @app.get("/")
    def home():
        return redirect(url_for("inbox.queue"))

    @app.get("/healthz")
    def healthz():
        state = {"database": "ok", "redis": "ok", "sandbox": settings.sandbox}
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            state["database"] = f"down: {type(exc).__name__}"
        try:
            services.queues.redis.ping()
            state["waiting"] = services.queues.waiting()  # stored messages no worker has taken yet
        except RedisError as exc:
            state["redis"] = f"down: {type(exc).__name__}"
        if state["database"] == "ok":  # messages the sweeper gave up on: an operator should look
            state["unprocessed"] = given_up_count(db)
            state["failed_sends"] = failed_sends(db)  # in the last hour
        ok = state["database"] == "ok" and state["redis"] == "ok"
        return jsonify(state), 200 if ok else 503

    @app.cli.group("db")
    def db_group() -> None:
        """The database's schema: its migrations (docs/operations.md, Upgrades)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Apply the migrations up to REVISION (the newest by default)."""
        migrate.upgrade(db, revision)
        with db.engine.connect() as conn:
            click.echo(f"database at revision {migrate.current(conn)}")

    @db_group.command("current")
    def db_current() -> None:
        """Show the database's revision."""
        with db.engine.connect() as conn:
            revision = None if migrate.is_empty(conn) else migrate.current(conn)
        click.echo(revision or "none: an empty database, or one made before the migrations")
        if revision != migrate.head():
            click.echo(f"this release needs {migrate.head()}: run `flask --app app db upgrade`")

    @db_group.command("history")
    def db_history() -> None:
        """List the migrations, newest first."""
        migrate.history()

    @db_group.command("revision")
    @click.option("-m", "--message", required=True, help="what the change is, in a sentence")
    def db_revision(message: str) -> None:
        """Write a new migration from the difference between the models and the database (a developer's
        step, on a database at the newest revision); read it over before committing it."""
        migrate.revision(db, message)

    @app.cli.command("backup")
    @click.argument("into", type=click.Path(file_okay=False, path_type=Path))
    def backup_command(into: Path) -> None:
        """Write the database and the media store into a dated folder under INTO."""
        try:
            folder = backup.backup(db, settings.media_dir, into)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"backup written to {folder}")

    @app.cli.command("restore")
    @click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
    def restore_command(folder: Path) -> None:
        """Restore a backup FOLDER into an empty database (DATABASE_URL) and the media store: one with no
        tables, or only those a start of the gateway made, without a row of anyone's."""
        try:
            manifest = backup.restore(db, settings.media_dir, folder)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"restored the backup of {manifest['made_at']}: {sum(manifest['rows'].values())} rows,"
                   f" {manifest['media_files']} media files")

    @app.cli.command("retention")
    @click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
    def retention_command(dry_run: bool) -> None:
        """Remove citizens' personal data from tickets closed longer than RETENTION_YEARS ago (the
        worker does it every night)."""
        erased = retention.run(services, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        click.echo(f"{verb} the personal data of {erased.tickets} ticket(s), {erased.messages} message(s) and"
                   f" {erased.attachments} attachment(s) closed before"
                   f" {retention.cutoff(settings.retention_years):%Y-%m-%d}")

    @app.cli.command("daily")
    def daily_command() -> None:
        """Do the daily work now, as the worker does each morning (it does nothing twice)."""
        report = daily.run(services)

        def listed(found: tuple[str, ...]) -> str:
            return f"{len(found)}" + (f" ({', '.join(codes.display(c) for c in found)})" if found else "")

        click.echo(f"closed by themselves (answered, no word from the citizen for"
                   f" {clock.AUTO_CLOSE.amount} working days): {listed(report.closed)}")
        if not report.working_day:
            click.echo("not a working day: no escalation, no digest")
            return
        click.echo(f"reported to their heads (overdue by {settings.escalate_after.amount}"
                   f"{settings.escalate_after.unit} or more): {listed(report.escalated)}")
        click.echo(f"digests given (the inbox, and SMS to officers with a phone): {report.digests}")

    @app.cli.command("erase-citizen")
    @click.argument("phone")
    @click.option("--by", "username", required=True, help="The admin who received the request (audit trail).")
    def erase_citizen_command(phone: str, username: str) -> None:
        """Remove a citizen's number, name and attachments from all their tickets and messages, at
        their request (UU 27/2022)."""
        number = to_e164(phone)
        if number is None:
            raise click.ClickException(f"{phone!r} is not a phone number")
        with db.transaction() as s:
            admin = officers.by_username(s, username)
            if admin is None or not admin.active or not admin.has(Role.ADMIN):
                raise click.ClickException(f"{username!r} is not an active admin")
            admin_id = admin.id
        erased, still_open = retention.erase_citizen(services, number, admin_id)
        click.echo(f"{mask(number)}: personal data removed from {erased.tickets} ticket(s), {erased.messages}"
                   f" message(s), {erased.attachments} attachment(s)")
        if still_open:
            click.echo(f"still open, now without a number to answer: {', '.join(still_open)}")

    @app.cli.command("sweep")
    def sweep_command() -> None:
        """Queue stored work that Redis lost, once."""
        click.echo(repr(sweep(services)))

    since_option = click.option("--since", required=True, metavar="'2026-11-22 08:00'", callback=_moment,
                                help="When the outage began: WITA unless an offset is given (+00:00 for UTC).")

    @app.cli.command("backfill")
    @since_option
    def backfill_command(since: datetime) -> None:
        """Store and queue what citizens sent since then that the webhook did not take (after an outage)."""
        listed, stored = backfill(app.extensions["ingestor"], services.sender.provider, since)
        click.echo(f"{listed} message(s) received since {since:%Y-%m-%d %H:%M %z}; {stored} had not been stored"
                   " and are now queued")

    @app.cli.command("resend-failed")
    @since_option
    @click.option("--code", "codes", required=True, multiple=True, metavar="20003",
                  help="The provider's error code they failed with, as the worker logged it (repeatable).")
    def resend_failed_command(since: datetime, codes: tuple[str, ...]) -> None:
        """Send again the automatic replies (acknowledgements, status) that failed since then with
        that code, once the cause is mended: the provider refused the account (20003: a wrong auth
        token; a suspended account, a spent balance)."""
        with db.transaction() as s:
            new = resend_failed(s, since.astimezone(timezone.utc).replace(tzinfo=None), codes)
        queued = 0
        try:
            for outbound_id in new:
                services.queues.send(outbound_id)
                queued += 1
        except RedisError:
            click.echo("Redis is down: the sweeper sends the rest once it is back")
        click.echo(f"{len(new)} automatic reply(ies) written again, {queued} queued for sending")

    @app.cli.command("unprocessed")
    @click.option("--retry", is_flag=True, help="Let the sweeper queue them again (after fixing the cause).")
    def unprocessed_command(retry: bool) -> None:
        """List the stored messages whose processing failed every attempt."""
        for msg in given_up(db):
            click.echo(f"{msg.id}  {msg.message_sid}  {mask(msg.from_address)}"
                       f"  received {msg.received_at:%Y-%m-%d %H:%M} UTC  attempts {msg.attempts}")
        if retry:
            click.echo(f"{retry_given_up(db)} message(s) handed back to the sweeper")

    return app
