"""Command line for first set-up and scripts: officers and agencies."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from handlers import lapor
from handlers import officers as officer_store
from parsers.phone import national
from store.db import now


def _services():
    return current_app.extensions["gateway"]


officers = AppGroup("officers", help="Manage officers.")


@officers.command("add")
@click.argument("username")
@click.option("--agency", required=True, help="agency code, e.g. biro-organisasi")
@click.option("--role", "roles", required=True, help="comma-separated: liaison,head,official,admin")
@click.option("--name", default="", help="full name shown in the inbox")
@click.option("--phone", default="", help="mobile number for the officer's notices by SMS, e.g. 0812-3456-7890")
@click.option("--position", default="", help="position (jabatan) printed under the name on answer letters")
@click.option("--level", default="", help="a head's level of approval: a key of the agency's approval.levels")
def add(username: str, agency: str, roles: str, name: str, phone: str, position: str, level: str) -> None:
    """Add an officer; the password is read from standard input when it is not a terminal."""
    password = _read_password()
    services = _services()
    try:
        with services.db.transaction() as s:
            officer = officer_store.add(s, services.settings.service, username=username, agency=agency,
                                        roles=officer_store.parse_roles(roles), password=password, full_name=name,
                                        phone=phone, position=position, level=level)
    except officer_store.OfficerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {officer.username} ({officer.agency}: {officer.roles})")


@officers.command("post")
@click.argument("username")
@click.option("--position", default="", help="position (jabatan) printed under the name on answer letters")
@click.option("--level", default="", help="a head's level of approval: a key of the agency's approval.levels")
def post(username: str, position: str, level: str) -> None:
    """Set an officer's position and level of approval (empty: none)."""
    services = _services()
    try:
        with services.db.transaction() as s:
            officer = officer_store.set_post(s, services.settings.service, username, position, level)
    except officer_store.OfficerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{officer.username}: {officer.position or '-'}, level {officer.approval_level or '-'}")


@officers.command("list")
def list_officers() -> None:
    """List officers: username, agency, roles, active."""
    services = _services()
    with services.db.sessions() as s:
        for agency in services.settings.service.agencies:
            for o in officer_store.of_agency(s, agency):
                click.echo(f"{o.username}\t{o.agency}\t{o.roles}\t{'active' if o.active else 'disabled'}"
                           f"\t{national(o.phone) if o.phone else '-'}\t{o.approval_level or '-'}\t{o.position or '-'}")


@officers.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an officer: they can no longer log in, and open sessions end."""
    _set_active(username, False)


@officers.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled officer again (an admin who locked themselves out, for one)."""
    _set_active(username, True)


def _set_active(username: str, active: bool) -> None:
    try:
        with _services().db.transaction() as s:
            officer_store.set_active(s, username, active)
    except officer_store.OfficerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'enabled' if active else 'disabled'} {username}")


@officers.command("password")
@click.argument("username")
@click.option("--one-time", is_flag=True, help="the officer must change it at their next login")
def set_password(username: str, one_time: bool) -> None:
    """Set an officer's password (read from standard input when it is not a terminal); their
    signed-in browsers are signed out."""
    new = _read_password()
    try:
        with _services().db.transaction() as s:
            officer_store.set_password(s, username, new, one_time=one_time)
    except officer_store.OfficerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {username} set" + (" (to be changed at the next login)" if one_time else ""))


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


agencies = AppGroup("agencies", help="Show agencies.")


@agencies.command("list")
def list_agencies() -> None:
    """One agency a line: code, name, and the lines that lead to it."""
    service = _services().settings.service
    for agency in service.agencies.values():
        lines = ", ".join(f"{l.id} ({l.channel} {l.to})" for l in service.lines if l.agency == agency.code)
        click.echo(f"{agency.code}\t{agency.name}\t{lines or '-'}")


@click.command("lapor-export")
@click.option("--agency", required=True, help="agency code, e.g. biro-organisasi")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first day received, WITA")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]), help="last day received, WITA")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="file to write (else standard output)")
@with_appcontext
def lapor_export(agency: str, first, last, output: str | None) -> None:
    """Write the agency's tickets received in the period as one JSON file for SP4N-LAPOR!
    (docs/lapor-export.schema.json)."""
    services = _services()
    if agency not in services.settings.service.agencies:
        raise click.ClickException(f"unknown agency {agency} (flask --app app agencies list)")
    if last < first:
        raise click.ClickException("--to is before --from")
    with services.db.sessions() as s:
        data = lapor.export(s, services.settings.service, services.settings.media_dir, agency, first.date(),
                            last.date(), now())
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"{len(data['tickets'])} tickets written to {output}", err=True)
    else:
        click.echo(text, nl=False)
