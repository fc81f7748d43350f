"""Officers: create, list, disable, check passwords, their signed-in browsers. Used by the command line and the admin page."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from config import Service
from parsers.phone import valid_number
from store.db import now
from store.models import LoginSession, Officer, Role

MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# Compared against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password")


class OfficerError(ValueError):
    """Bad officer data; the message says what, in Bahasa Indonesia."""


def parse_roles(text: str) -> list[Role]:
    try:
        roles = sorted({Role(r.strip()) for r in text.split(",") if r.strip()}, key=lambda r: r.value)
    except ValueError:
        raise OfficerError(f"Peran tidak dikenal: {text}. Pilih dari: "
                           + ", ".join(r.value for r in Role)) from None
    if not roles:
        raise OfficerError("Pilih sedikitnya satu peran.")
    return roles


def add(s: Session, service: Service, *, username: str, agency: str, roles: list[Role], password: str,
        full_name: str = "", phone: str = "", position: str = "", level: str = "") -> Officer:
    """Create an officer with a hashed password, and a phone number for their notices when given;
    a head's level of approval (service.toml) and their position (jabatan) as letters print it."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise OfficerError("Nama pengguna: 3-64 huruf kecil, angka, titik, garis bawah atau tanda hubung.")
    if agency not in service.agencies:
        raise OfficerError(f"Instansi tidak dikenal: {agency}.")
    if len(password) < MIN_PASSWORD:
        raise OfficerError(f"Kata sandi sedikitnya {MIN_PASSWORD} karakter.")
    if s.scalar(select(Officer.id).where(Officer.username == username)) is not None:
        raise OfficerError(f"Nama pengguna {username} sudah dipakai.")
    number = valid_number(phone) if phone.strip() else ""
    if number is None:
        raise OfficerError(f"Nomor ponsel tidak valid: {phone.strip()[:20]}. Tulis misalnya 0812-3456-7890.")
    officer = Officer(username=username, agency=agency, roles=",".join(r.value for r in roles),
                      password_hash=generate_password_hash(password), full_name=full_name.strip()[:120],
                      phone=number)
    _post(officer, service, position, level)
    s.add(officer)
    s.flush()
    return officer


def set_post(s: Session, service: Service, username: str, position: str, level: str,
             agency: str | None = None) -> Officer:
    """Give an officer their position (jabatan) and, for a head, the level they approve at."""
    officer = _of(s, username, agency)
    _post(officer, service, position, level)
    return officer


def _post(officer: Officer, service: Service, position: str, level: str) -> None:
    levels = service.agencies[officer.agency].levels
    level = level.strip()
    if level and level not in levels:
        raise OfficerError(f"Tingkat persetujuan tidak dikenal: {level[:32]}. "
                           + (f"Pilih dari: {', '.join(levels)}." if levels else "Instansi ini hanya punya satu "
                              "tingkat persetujuan (service.toml)."))
    if level and not officer.has(Role.HEAD):
        raise OfficerError("Tingkat persetujuan hanya untuk pimpinan.")
    officer.position = position.strip()[:120] or levels.get(level, "")
    officer.approval_level = level


def by_username(s: Session, username: str) -> Officer | None:
    """The officer of a username as typed (usernames are kept lowercase)."""
    return s.scalar(select(Officer).where(Officer.username == username.strip().lower()))


def _of(s: Session, username: str, agency: str | None) -> Officer:
    officer = by_username(s, username)
    if officer is None or (agency is not None and officer.agency != agency):
        raise OfficerError(f"Petugas {username} tidak ditemukan.")
    return officer


def set_active(s: Session, username: str, active: bool, agency: str | None = None,
               by: Officer | None = None) -> Officer:
    """Disable (or enable again) an officer; agency limits an admin to their own, and an admin (by)
    cannot disable themselves (nobody would be left to enable them)."""
    officer = _of(s, username, agency)
    if by is not None and officer.id == by.id and not active:
        raise OfficerError("Anda tidak dapat menonaktifkan akun Anda sendiri.")
    officer.active = active
    if not active:
        s.execute(delete(LoginSession).where(LoginSession.officer_id == officer.id))
    return officer


def set_password(s: Session, username: str, password: str, agency: str | None = None,
                 one_time: bool = False) -> Officer:
    """Give an officer a new password; one_time: they must change it at their next login. Their
    signed-in browsers are signed out."""
    if len(password) < MIN_PASSWORD:
        raise OfficerError(f"Kata sandi sedikitnya {MIN_PASSWORD} karakter.")
    officer = _of(s, username, agency)
    officer.password_hash = generate_password_hash(password)
    officer.must_change_password = one_time
    s.execute(delete(LoginSession).where(LoginSession.officer_id == officer.id))
    return officer


def change_own_password(s: Session, officer_id: int, current: str, new: str, again: str) -> Officer:
    """An officer changes their own password, giving the current one."""
    officer = s.get(Officer, officer_id)
    if not check_password_hash(officer.password_hash, current):
        raise OfficerError("Kata sandi sekarang salah.")
    if new != again:
        raise OfficerError("Kata sandi baru dan ulangannya tidak sama.")
    if len(new) < MIN_PASSWORD:
        raise OfficerError(f"Kata sandi sedikitnya {MIN_PASSWORD} karakter.")
    if new == current:
        raise OfficerError("Kata sandi baru harus berbeda dari yang sekarang.")
    officer.password_hash = generate_password_hash(new)
    officer.must_change_password = False
    return officer


def open_session(s: Session, officer: Officer, lifetime: timedelta) -> str:
    """Record a new signed-in browser of the officer (dropping their expired ones); return its token."""
    s.execute(delete(LoginSession).where(LoginSession.officer_id == officer.id,
                                         LoginSession.created_at < now() - lifetime))
    token = secrets.token_urlsafe(32)
    s.add(LoginSession(token_hash=_hash(token), officer_id=officer.id))
    return token


def session_officer(s: Session, token: str, lifetime: timedelta) -> Officer | None:
    """The active officer whose browser holds this token, unless it was closed or has expired."""
    return s.scalar(select(Officer).join(LoginSession, LoginSession.officer_id == Officer.id).where(
        LoginSession.token_hash == _hash(token), LoginSession.created_at >= now() - lifetime,
        Officer.active.is_(True)))


def close_session(s: Session, token: str) -> None:
    s.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(s: Session, username: str, password: str) -> Officer | None:
    """Return the active officer with this username and password, else None."""
    officer = by_username(s, username)
    if officer is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(officer.password_hash, password) or not officer.active:
        return None
    return officer


def of_agency(s: Session, agency: str) -> list[Officer]:
    return list(s.scalars(select(Officer).where(Officer.agency == agency).order_by(Officer.username)))
