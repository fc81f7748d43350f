"""The officers' own account page, and the admin's pages: officers and canned replies."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from handlers import officers as officer_store
from inbox.auth import login_required
from inbox.views import _services, _session, bp
from store.db import as_int
from store.models import CannedReply, Officer, Role


@bp.route("/akun", methods=["GET", "POST"])
@login_required
def account():
    """The officer's own settings: their password, and immediate notices by SMS on or off."""
    db, form = _services().db, request.form
    if request.method == "POST":
        if "sandi_baru" in form:
            try:
                with db.transaction() as s:
                    officer_store.change_own_password(s, g.officer.id, form.get("sandi_sekarang", ""),
                                                      form.get("sandi_baru", ""), form.get("sandi_ulang", ""))
            except officer_store.OfficerError as exc:
                flash(str(exc), "error")
                return render_template("account.html"), 422
            flash("Kata sandi Anda sudah diganti.", "ok")
        else:
            wanted = form.get("pemberitahuan") == "1"
            with db.transaction() as s:
                s.get(Officer, g.officer.id).notify = wanted
            flash("Pemberitahuan lewat SMS " + ("dinyalakan." if wanted else "dimatikan."), "ok")
        return redirect(url_for("inbox.account"), 303)
    return render_template("account.html")


def _admin() -> Officer:
    if not g.officer.has(Role.ADMIN):
        abort(403, "Halaman ini hanya untuk admin instansi.")
    return g.officer


@bp.route("/balasan", methods=["GET", "POST"])
@login_required
def canned():
    """Canned replies of the agency: an admin adds, edits and removes them."""
    admin = _admin()
    db = _services().db
    form = request.form
    if request.method == "POST":
        title, body = form.get("judul", "").strip(), form.get("isi", "").strip()
        with db.transaction() as s:
            reply = s.get(CannedReply, form.get("id", type=as_int) or 0)
            if reply is not None and reply.agency != admin.agency:
                abort(404)
            if form.get("hapus") and reply is not None:
                s.delete(reply)
                flash(f"Balasan siap pakai \u201c{reply.title}\u201d dihapus.", "ok")
            elif title and body:
                reply = reply or CannedReply(agency=admin.agency)
                reply.title, reply.body = title[:120], body
                s.add(reply)
                flash(f"Balasan siap pakai \u201c{reply.title}\u201d tersimpan.", "ok")
            else:
                flash("Judul dan isi wajib diisi.", "error")
                return _canned_page(admin, form), 422
        return redirect(url_for("inbox.canned"), 303)
    return _canned_page(admin, {})


def _canned_page(admin: Officer, typed):
    with _session() as s:
        replies = s.scalars(select(CannedReply).where(CannedReply.agency == admin.agency)
                            .order_by(CannedReply.title)).all()
    return render_template("canned.html", replies=replies, typed=typed)


@bp.route("/petugas", methods=["GET", "POST"])
@login_required
def staff():
    """Officers of the agency: an admin adds them, disables or enables them (never themselves), and gives
    one a one-time password."""
    admin = _admin()
    services = _services()
    form = request.form
    if request.method == "POST":
        try:
            with services.db.transaction() as s:
                if form.get("username_status"):
                    active = form.get("aktif") == "1"
                    if not active and form.get("konfirmasi") != "1":
                        raise officer_store.OfficerError("Centang konfirmasi dulu untuk menonaktifkan petugas.")
                    done = officer_store.set_active(s, form["username_status"], active, admin.agency, by=admin)
                    said = f"Petugas {done.username} {'diaktifkan' if active else 'dinonaktifkan'}."
                elif form.get("username_sandi"):
                    done = officer_store.set_password(s, form["username_sandi"], form.get("sandi_sementara", ""),
                                                      admin.agency, one_time=True)
                    said = f"Kata sandi sementara {done.username} tersimpan; ia menggantinya saat masuk berikutnya."
                elif form.get("username_jabatan"):
                    done = officer_store.set_post(s, services.settings.service, form["username_jabatan"],
                                                  form.get("jabatan", ""), form.get("tingkat", ""), admin.agency)
                    said = f"Jabatan {done.username} tersimpan."
                else:
                    done = officer_store.add(s, services.settings.service, username=form.get("username", ""),
                                             agency=admin.agency, roles=officer_store.parse_roles(",".join(
                                                 form.getlist("peran"))), password=form.get("password", ""),
                                             full_name=form.get("nama", ""), phone=form.get("telepon", ""),
                                             position=form.get("jabatan", ""), level=form.get("tingkat", ""))
                    said = f"Petugas {done.username} ditambahkan."
        except officer_store.OfficerError as exc:
            flash(str(exc), "error")
            return _staff_page(admin, form), 422
        flash(said, "ok")
        return redirect(url_for("inbox.staff"), 303)
    return _staff_page(admin, {})


def _staff_page(admin: Officer, typed):
    """The officers' page; after a refused form, with what was typed kept (never a password)."""
    with _session() as s:
        people = officer_store.of_agency(s, admin.agency)
    kept = {k: v for k, v in typed.items() if k not in ("password", "sandi_sementara", "csrf_token")}
    return render_template("staff.html", people=people, roles=list(Role), typed=kept,
                           levels=_services().settings.service.agencies[admin.agency].levels,
                           typed_roles=typed.getlist("peran") if hasattr(typed, "getlist") else [])
