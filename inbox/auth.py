"""Login with throttling, signed sessions, CSRF tokens, and the login_required guard."""
from __future__ import annotations

import functools
import hmac
import logging
import secrets

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask.sessions import SecureCookieSessionInterface
from redis.exceptions import RedisError

from handlers import officers

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, template_folder="templates")
# Failures allowed in the window, per username and per client address.
MAX_PER_USER, MAX_PER_ADDRESS, WINDOW_SECONDS = 5, 20, 15 * 60


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened for every request (webhooks included) more cheaply:
    the signer is built once, and a request without cookies gets an empty session at once."""

    _serializer = None

    def get_signing_serializer(self, app):
        if self._serializer is None:
            self._serializer = super().get_signing_serializer(app)
        return self._serializer

    def open_session(self, app, request):
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse any state-changing request without the session's CSRF token (webhooks are signed instead)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.blueprint not in ("auth", "inbox"):
        return
    sent = request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.")


def template_globals() -> dict:
    return {"csrf_token": csrf_token, "officer": g.get("officer")}


def login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = session.get("token")
        officer = None
        if isinstance(token, str):
            with current_app.extensions["gateway"].db.sessions() as s:
                officer = officers.session_officer(s, token, current_app.permanent_session_lifetime)
        if officer is None:
            session.clear()
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        g.officer = officer
        if officer.must_change_password and request.endpoint != "inbox.account":
            flash("Ganti dulu kata sandi sementara yang diberikan admin.", "error")
            return redirect(url_for("inbox.account"))
        return view(*args, **kwargs)
    return wrapper


def _keys(username: str) -> tuple[str, str]:
    return f"login-fail:user:{username.strip().lower()}", f"login-fail:addr:{request.remote_addr}"


def _throttled(username: str) -> bool:
    redis = current_app.extensions["gateway"].queues.redis
    user_key, addr_key = _keys(username)
    try:
        user, addr = redis.mget(user_key, addr_key)
    except RedisError:
        log.warning("login throttle unavailable (Redis down); allowing the attempt")
        return False
    return int(user or 0) >= MAX_PER_USER or int(addr or 0) >= MAX_PER_ADDRESS


def _record_failure(username: str) -> None:
    redis = current_app.extensions["gateway"].queues.redis
    try:
        with redis.pipeline() as pipe:
            for key in _keys(username):
                pipe.incr(key)
                pipe.expire(key, WINDOW_SECONDS)
            pipe.execute()
    except RedisError:
        pass


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        if _throttled(username):
            log.warning("login throttled for a username or address")
            flash("Terlalu banyak percobaan masuk. Coba lagi dalam 15 menit.", "error")
            return render_template("login.html"), 429
        db = current_app.extensions["gateway"].db
        with db.sessions() as s:
            officer = officers.authenticate(s, username, password)
        if officer is None:
            _record_failure(username)
            flash("Nama pengguna atau kata sandi salah.", "error")
            return render_template("login.html"), 401
        with db.transaction() as s:
            token = officers.open_session(s, officer, current_app.permanent_session_lifetime)
        session.clear()
        session.permanent = True
        session["token"] = token
        log.info("officer %s logged in", officer.id)
        target = request.args.get("next", "")
        return redirect(target if target.startswith("/inbox") else url_for("inbox.my_tasks"))
    return render_template("login.html")


@bp.post("/logout")
def logout():
    """End the session on the server too: a copy of the cookie opens nothing afterwards."""
    if isinstance(session.get("token"), str):
        with current_app.extensions["gateway"].db.transaction() as s:
            officers.close_session(s, session["token"])
    session.clear()
    return redirect(url_for("auth.login"))
