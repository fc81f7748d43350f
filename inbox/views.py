"""Inbox pages: the queue, a ticket, its actions, attachments, manual intake, admin pages."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file,
                   url_for)
from redis.exceptions import RedisError
from sqlalchemy import or_, select

from handlers import officers as officer_store
from handlers import workflow
from handlers import clock, daily, letters, media, tasks
from parsers import codes
from parsers.intent import text_with_location
from parsers.phone import national
from replies.render import WITA, date, stamp
from replies.segments import count as segment_count
from store.models import (Attachment, CannedReply, DeliveryStatus, Digest, Officer, OutboundMessage, Role, Ticket,
                          TicketEvent, TicketState)
from store.db import INT_MAX, as_int, now
from store.queries import (QueueFilter, citizen_wrote_since, is_opted_out, officers_message_not_read, queue_page,
                           state_counts)
from inbox.auth import login_required

log = logging.getLogger(__name__)
bp = Blueprint("inbox", __name__, url_prefix="/inbox", template_folder="templates", static_folder="static")

STATE_LABELS = {
    "baru": "Baru", "ditelaah": "Ditelaah", "didisposisi": "Didisposisi", "draf": "Draf jawaban",
    "menunggu_persetujuan": "Menunggu persetujuan", "disetujui": "Disetujui", "terkirim": "Terkirim",
    "ditunda": "Ditunda", "selesai": "Selesai", "diarsipkan": "Diarsipkan", "diteruskan": "Diteruskan",
}
CHANNEL_LABELS = {"sms": "SMS", "whatsapp": "WhatsApp", **workflow.MANUAL_CHANNELS}
ROLE_LABELS = {"liaison": "Pejabat penghubung", "head": "Kepala", "official": "Pejabat yang ditugaskan",
               "admin": "Admin"}
# An outbound message's delivery status (DeliveryStatus), as the provider last reported it.
DELIVERY_LABELS = {
    "pending": "belum dikirim", "sending": "sedang dikirim", "accepted": "diterima penyedia",
    "queued": "dalam antrean penyedia", "sent": "terkirim", "delivered": "sampai di ponsel",
    "read": "dibaca", "undelivered": "tidak sampai", "failed": "gagal",
    "suppressed": "tidak dikirim",  # why: the row's error_message
    "held": "menunggu balasan warga",  # WhatsApp's window closed: sent once the citizen replies to the template
}
ACTION_LABELS = {a.name: a.label for a in workflow.ACTIONS} | {
    "catat": "Dicatat", "diterima": "Diterima (diteruskan dari instansi lain)",
    "buka_kembali": "Dibuka kembali (warga mengirim tambahan)", "minta_batal": "Warga meminta laporan dibatalkan",
    "batal_dicabut": "Warga tidak jadi membatalkan", "hapus_data": "Data pribadi warga dihapus",
    "tutup_otomatis": "Ditutup otomatis (warga tidak menanggapi jawaban)", "surat": "Surat jawaban dicetak"}
INLINE_IMAGES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
# Voice notes (WhatsApp's are audio/ogg), played on the ticket page.
INLINE_AUDIO = {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/wav", "audio/webm"}
PAGE_SIZE = 50
# What the page says once a step is done.
DONE = {
    "telaah": "Tiket sudah ditelaah.", "disposisi": "Tiket didisposisikan.", "draf": "Draf jawaban tersimpan.",
    "ajukan": "Jawaban diajukan untuk persetujuan.", "setujui": "Jawaban disetujui.",
    "kembalikan": "Draf dikembalikan dengan catatan.", "kirim": "Jawaban dikirim ke warga.",
    "kirim_ulang": "Jawaban dikirim sekali lagi ke warga.", "selesai": "Tiket selesai.",
    "tunda": "Pertanyaan dikirim ke warga; tiket ditunda sampai warga menjawab.", "lanjutkan": "Tiket dilanjutkan.",
    "arsipkan": "Tiket diarsipkan.", "teruskan": "Tiket diteruskan ke {agency}.",
    "batalkan": "Laporan ditutup atas permintaan warga.", "pisahkan": "Pesan itu kini tiket tersendiri.",
    "jawab_langsung": "Jawaban dicatat dan tiket selesai.", "catatan": "Catatan internal tersimpan.",
    "ubah_data": "Data warga diperbaiki.", "lapor": "Nomor tracking LAPOR! tersimpan.",
    "rahasia": "Kerahasiaan identitas pelapor tersimpan.",
}
# The step a ticket in each state most likely waits for, shown in full on its page.
NEXT_STEP = {
    "baru": ("telaah", "jawab_langsung"), "ditelaah": ("disposisi", "jawab_langsung"),
    "didisposisi": ("draf", "ajukan"), "draf": ("draf", "ajukan"),
    "menunggu_persetujuan": ("setujui", "kembalikan"), "disetujui": ("kirim", "selesai"),
    "terkirim": ("selesai",), "ditunda": ("lanjutkan",),
}
# Steps that cannot be undone, or that reach the citizen again: the form asks "Ya, ..." first.
CONFIRMED = {"kirim_ulang", "arsipkan", "teruskan", "batalkan"}


@bp.after_request
def security_headers(response):
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _services():
    return current_app.extensions["gateway"]


def _session():
    return _services().db.sessions()


def span(delta: timedelta) -> str:
    """Say a duration briefly, in Bahasa Indonesia."""
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes >= 2 * 24 * 60:
        return f"{minutes // (24 * 60)} hari"
    if minutes >= 120:
        return f"{minutes // 60} jam"
    return f"{minutes} menit"


def local(moment: datetime | None) -> str:
    return "-" if moment is None else stamp(moment)


def time_left(due: datetime, is_open: bool, moment: datetime) -> tuple[str, bool]:
    if not is_open:
        return "", False
    if due < moment:
        return f"terlambat {span(moment - due)}", True
    return f"sisa {span(due - moment)}", False


def deadline(service, t, moment: datetime) -> tuple[str, bool]:
    """What a ticket's deadline says now, and whether it is late: time left; for a sent answer, when
    it was answered and whether in time; waiting for the citizen, that its clock stands still."""
    if t.state == TicketState.TERKIRIM.value and t.answered_at is not None:
        late = t.answered_at > t.due_at
        return f"dijawab {date(t.answered_at)}, {'terlambat' if late else 'tepat waktu'}", late
    if not t.is_open:
        return "", False
    left, late = time_left(clock.current_due(service, t, moment), True, moment)
    return (f"dijeda, {left}" if t.paused_at is not None else left), late


def stage(service, t, moment: datetime) -> dict | None:
    """The SP4N-LAPOR! stage the ticket is in (verifikasi, tindak lanjut): {"name", "due", "left", "late"}."""
    found = clock.stage(service, t)
    if found is None:
        return None
    left, late = time_left(found.due, True, moment)
    return {"name": found.name, "due": found.due, "left": left, "late": late}


bp.add_app_template_filter(local, "local")
bp.add_app_template_filter(national, "national")  # a number as officers read and dial it: 0812-3456-7890
bp.add_app_template_global(STATE_LABELS, "STATE_LABELS")
bp.add_app_template_global(CHANNEL_LABELS, "CHANNEL_LABELS")
bp.add_app_template_global(DELIVERY_LABELS, "DELIVERY_LABELS")
bp.add_app_template_global(ROLE_LABELS, "ROLE_LABELS")


@bp.get("/")
@login_required
def queue():
    officer: Officer = g.officer
    args = request.args
    assignee = args.get("petugas", type=as_int)
    if args.get("petugas") == "saya":
        assignee = officer.id
    f = QueueFilter(agency=officer.agency, state=args.get("status", ""), channel=args.get("saluran", ""),
                    line=args.get("layanan", ""), assignee_id=assignee, q=args.get("q", "")[:100],
                    category=args.get("kategori", "")[:32])
    after = None
    if args.get("setelah"):
        stamp, _, row_id = args["setelah"].rpartition("_")
        try:
            after = (datetime.fromisoformat(stamp), as_int(row_id))
        except ValueError:
            abort(400)
        if after[1] is None:
            abort(400)
    with _session() as s:
        rows = queue_page(s, f, after, PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        new = citizen_wrote_since(s, rows)
        not_read = officers_message_not_read(s, rows)
        counts = state_counts(s, officer.agency)
        staff = officer_store.of_agency(s, officer.agency)
    moment = now()
    service = _services().settings.service
    view = [{"row": r, "age": span(moment - r.created_at), "left": deadline(service, r, moment),
             "new": new.get(r.id), "not_read": not_read.get(r.id), "stage": stage(service, r, moment)}
            for r in rows]
    next_key = f"{rows[-1].due_at.isoformat()}_{rows[-1].id}" if more else None
    return render_template("queue.html", rows=view, counts=counts, f=f, next_key=next_key, args=args,
                           short_names={code: a.short_name for code, a in service.agencies.items()},
                           lines=[l for l in service.lines if l.agency == officer.agency],
                           staff=[o for o in staff if o.has(Role.OFFICIAL)], display=codes.display,
                           categories=service.agencies[officer.agency].categories)


@bp.get("/tugas")
@login_required
def my_tasks():
    """Tugas saya: what waits for this officer, by deadline; every officer's first page."""
    officer, service, moment = g.officer, _services().settings.service, now()
    with _session() as s:
        found = tasks.of(s, officer, service, moment)
        digest = s.get(Digest, (officer.id, daily.local_day(moment)))  # this morning's, when it was given
    view = [{"task": task, "row": task.row, "left": deadline(service, task.row, moment),
             "stage": stage(service, task.row, moment)} for task in found]
    return render_template("tasks.html", items=view, what=tasks.WHAT, display=codes.display, digest=digest)


@bp.get("/tugas/jumlah")
@login_required
def my_task_count():
    """How many tickets wait for this officer, for the count in the menu (refreshed by inbox.js)."""
    with _session() as s:
        return {"jumlah": tasks.count(s, g.officer, _services().settings.service, now())}


def _ticket_or_404(s, code: str) -> Ticket:
    """A ticket the officer may read (their agency's, or one it forwarded), or 404."""
    try:
        return workflow.find_to_read(s, g.officer, code)
    except workflow.NotFound:
        abort(404)


@bp.get("/t/<code>")
@login_required
def ticket(code: str):
    return _ticket_page(code)


def _ticket_page(code: str, kept_action: str = "", kept: dict | None = None):
    """The ticket page; after a refused step, with what the officer typed in its form kept."""
    officer: Officer = g.officer
    service = _services().settings.service
    with _session() as s:
        t = _ticket_or_404(s, code)
        inbound = workflow.messages_of(s, t)
        outbound = s.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == t.id)).all()
        files = s.scalars(select(Attachment).where(Attachment.ticket_id == t.id).order_by(Attachment.id)).all()
        events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                           .order_by(TicketEvent.id)).all()
        people = {o.id: o for o in s.scalars(select(Officer).where(
            or_(Officer.agency == officer.agency, Officer.id.in_({e.officer_id for e in events if e.officer_id}))))}
        canned = s.scalars(select(CannedReply).where(CannedReply.agency == officer.agency)
                           .order_by(CannedReply.title)).all()
        late_route = workflow.late_route(s, t, service)
        delivered = s.scalar(select(OutboundMessage.updated_at).where(  # the answer reached the phone: say so
            OutboundMessage.ticket_id == t.id, OutboundMessage.purpose == "answer",
            OutboundMessage.status.in_((DeliveryStatus.DELIVERED.value, DeliveryStatus.READ.value)))
            .order_by(OutboundMessage.id.desc()).limit(1))
        opted_out = bool(t.phone) and is_opted_out(s, t.phone)
        ladder = _ladder(service, t, events, people)
        made = letters.of_ticket(s, t) if t.agency == officer.agency else []
        actions = {a.name for a in workflow.allowed(officer, t, service)} if t.agency == officer.agency else set()
        added = workflow.added_messages(inbound) if "pisahkan" in actions else []
        if not added:
            actions.discard("pisahkan")  # nothing to split off
    # The likely next step in full, the rest behind "Tindakan lain"; a request to close is always in view.
    primary = {name for name in actions if name in NEXT_STEP.get(t.state, ()) or name == "batalkan"} \
        or set(actions)
    conversation = sorted(
        [{"dir": "in", "at": m.received_at, "channel": m.channel, "auto": m.intent == "AutoReply",
          "body": text_with_location(m.body, m.params or {})} for m in inbound]
        + [{"dir": "out", "at": m.created_at, "body": m.body, "channel": m.channel, "status": m.status,
            "error": m.error_message, "purpose": m.purpose} for m in outbound],
        key=lambda item: item["at"])
    if not inbound and t.body:  # registered by hand: the complaint itself opens the conversation
        conversation.insert(0, {"dir": "in", "at": t.created_at, "body": t.body, "channel": t.channel})
    moment = now()
    return render_template(
        "ticket.html", t=t, display=codes.display(t.code), conversation=conversation, files=files,
        events=events, people=people, actions=actions, added=added,
        officials=[o for o in people.values() if o.agency == officer.agency and o.active and o.has(Role.OFFICIAL)],
        agencies=[a for a in service.agencies.values() if a.code != officer.agency], canned=canned,
        due=clock.current_due(service, t, moment), left=deadline(service, t, moment),
        age=span(moment - t.created_at), stage=stage(service, t, moment),
        late_route=late_route, delivered=delivered, opted_out=opted_out, given=workflow.GIVEN,
        message_limit=workflow.body_limit(service, t), prefix=workflow.prefix(service, t),
        draft_count=segment_count(workflow.prefix(service, t) + t.draft),
        inline_images=INLINE_IMAGES, inline_audio=INLINE_AUDIO, action_labels=ACTION_LABELS,
        kept_action=kept_action, kept=kept or {}, primary=primary, others=actions - primary, ladder=ladder,
        letters=made, printable=t.agency == officer.agency and letters.printable(t),
        categories=service.agencies[t.agency].categories,
        holder=service.agencies[t.agency].name if t.agency != officer.agency else None)


def _ladder(service, t: Ticket, events: list[TicketEvent], people: dict) -> list[dict]:
    """Where a draft is on its way up the hierarchy: each level of the ticket's chain, approved (by
    whom, when), waiting, or still to come; [] where one head approves, or no draft is on its way."""
    chain = service.agencies[t.agency].chain(t.channel)
    if not chain or t.state not in (TicketState.MENUNGGU_PERSETUJUAN.value, TicketState.DISETUJUI.value):
        return []
    submitted = max((i for i, e in enumerate(events) if e.action == "ajukan"), default=-1)
    approved = [e for e in events[submitted + 1:] if e.action == "setujui"]
    ladder = []
    for i, level in enumerate(chain):
        who = approved[i] if i < len(approved) else None
        ladder.append({"name": workflow.level_name(service, t.agency, level), "at": who.created_at if who else None,
                       "by": _name(people.get(who.officer_id)) if who else "",
                       "waiting": t.state == TicketState.MENUNGGU_PERSETUJUAN.value and t.approval_level == level})
    return ladder


def _name(officer: Officer | None) -> str:
    return (officer.full_name or officer.username) if officer else "-"


@bp.post("/t/<code>/<action>")
@login_required
def act(code: str, action: str):
    """Run one workflow transition from a form; errors come back as a message on the ticket page."""
    if action not in workflow.BY_NAME:
        abort(404)
    services = _services()
    service, form, officer = services.settings.service, request.form, g.officer
    note = form.get("catatan", "")
    if action in CONFIRMED and form.get("konfirmasi") != "1":  # the browser asks it too (a required box)
        flash("Centang konfirmasi dulu, lalu ulangi langkah ini.", "error")
        return redirect(url_for("inbox.ticket", code=code), 303)
    try:
        with services.db.transaction() as s:
            t = workflow.find(s, officer, code)
            match action:
                case "telaah":
                    done = workflow.telaah(s, officer, t, service, note, form.get("kategori", ""))
                case "disposisi":
                    done = workflow.disposisi(s, officer, t, form.get("petugas", type=as_int) or 0,
                                              form.get("arahan", ""))
                case "draf":
                    done = workflow.draf(s, officer, t, service, form.get("jawaban", ""))
                case "ajukan":
                    done = workflow.ajukan(s, officer, t, service, form.get("jawaban"))
                case "setujui":
                    done = workflow.setujui(s, officer, t, service, note, form.get("jawaban"))
                case "kembalikan":
                    done = workflow.kembalikan(s, officer, t, note)
                case "kirim":
                    done = workflow.kirim(s, officer, t, service)
                case "kirim_ulang":
                    done = workflow.kirim_ulang(s, officer, t, service)
                case "selesai":
                    done = workflow.selesai(s, officer, t, note, form.get("cara", ""))
                case "tunda":
                    done = workflow.tunda(s, officer, t, service, form.get("pertanyaan", ""))
                case "lanjutkan":
                    done = workflow.lanjutkan(s, officer, t, service, note)
                case "arsipkan":
                    done = workflow.arsipkan(s, officer, t, note)
                case "batalkan":
                    done = workflow.batalkan(s, officer, t, note)
                case "teruskan":
                    done = workflow.teruskan(s, officer, t, service, form.get("instansi", ""), note)
                case "pisahkan":
                    done = workflow.pisahkan(s, officer, t, service, form.get("pesan", type=as_int) or 0)
                case "jawab_langsung":
                    done = workflow.jawab_langsung(s, officer, t, form.get("jawaban", ""))
                case "catatan":
                    done = workflow.catatan(s, officer, t, note)
                case "ubah_data":
                    done = workflow.ubah_data(s, officer, t, form.get("nama", ""), form.get("alamat", ""))
                case "lapor":
                    done = workflow.lapor(s, officer, t, form.get("lapor", ""))
                case "rahasia":
                    done = workflow.rahasia(s, officer, t, form.get("rahasia") == "1")
    except workflow.NotFound:
        abort(404)
    except workflow.Forbidden as exc:
        abort(403, str(exc))
    except workflow.WorkflowError as exc:  # said on the page, with what was typed kept
        flash(str(exc), "error")
        return _ticket_page(code, action, {k: v for k, v in form.items() if k != "csrf_token"}), 422
    _queue_sends(done.outbound_ids)
    log.info("officer %s: %s on ticket %s", officer.id, action, done.ticket.id)
    done_text = DONE[action].format(agency=service.agencies[done.ticket.agency].name)
    if action == "setujui" and done.ticket.approval_level:  # on up the hierarchy
        done_text = (f"Jawaban disetujui dan diteruskan ke "
                     f"{workflow.level_name(service, done.ticket.agency, done.ticket.approval_level)}.")
    if done.waits_for_reply:
        done_text += " Warga menerima pemberitahuan WhatsApp; pesan terkirim begitu warga membalasnya."
    flash(done_text, "ok")
    if done.ticket.agency != officer.agency:  # forwarded: it has left this agency's queue
        return redirect(url_for("inbox.queue"), 303)
    return redirect(url_for("inbox.ticket", code=code), 303)


def _queue_sends(outbound_ids) -> None:
    for outbound_id in outbound_ids:
        try:
            _services().queues.send(outbound_id)
        except RedisError:
            flash("Antrean pengiriman sedang terganggu: pesan tersimpan dan akan dikirim otomatis.", "error")
            return


@bp.get(f"/lampiran/<int(max={INT_MAX}):attachment_id>")
@login_required
def attachment(attachment_id: int):
    """Serve evidence to officers of the ticket's agency; images and sound inline, anything else as a download."""
    with _session() as s:
        att = s.get(Attachment, attachment_id)
        t = s.get(Ticket, att.ticket_id) if att is not None and att.ticket_id else None
        if t is not None:  # the agency's own, or one it forwarded: as the ticket's page
            t = _ticket_or_404(s, t.code)
    if att is None or t is None or not att.path:
        abort(404)
    path = (_services().settings.media_dir / att.path).resolve()
    if not path.is_relative_to(_services().settings.media_dir.resolve()) or not path.exists():
        abort(404)
    kind = att.content_type.split(";")[0].strip().lower()
    inline = kind in INLINE_IMAGES or kind in INLINE_AUDIO
    response = send_file(path, mimetype=kind if inline else "application/octet-stream", as_attachment=not inline,
                         download_name=f"lampiran-{t.code}-{att.position + 1}{path.suffix}")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/catat", methods=["GET", "POST"])
@login_required
def intake():
    """Manual intake: face to face, letter, suggestion box: into the same register, received when the
    letter's stamp or the box says."""
    services = _services()
    moment = now()
    if request.method == "POST":
        form = request.form
        try:
            with services.db.transaction() as s:
                done = workflow.register(s, g.officer, services.settings.service, channel=form.get("saluran", ""),
                                         name=form.get("nama", ""), phone=form.get("telepon", ""),
                                         home=form.get("alamat", ""), text=form.get("isi", ""),
                                         kind=form.get("jenis", "pengaduan"),
                                         received=_local_input(form.get("diterima", ""), "Waktu diterima"),
                                         agreed=_local_input(form.get("disepakati", ""), "Waktu yang disepakati"),
                                         note=form.get("catatan", ""), confidential=form.get("rahasia") == "1")
                scan = request.files.get("lampiran")
                if scan and scan.filename:  # the letter's scan or photo, with its ticket
                    try:
                        media.keep_scan(s, services.settings.media_dir, done.ticket.id, scan.mimetype, scan.stream)
                    except media.ScanRefused as exc:
                        raise workflow.WorkflowError(str(exc)) from None
        except workflow.Forbidden as exc:
            abort(403, str(exc))
        except workflow.WorkflowError as exc:
            flash(str(exc), "error")
            return render_template("intake.html", form=form, channels=workflow.MANUAL_CHANNELS,
                                   latest=_local_value(moment)), 422
        _queue_sends(done.outbound_ids)
        flash(f"Pengaduan tercatat dengan kode {codes.display(done.ticket.code)}."
              + (" Warga menerima kodenya lewat SMS." if done.outbound_ids else ""), "ok")
        return redirect(url_for("inbox.ticket", code=done.ticket.code), 303)
    if not g.officer.has(Role.LIAISON):
        abort(403, "Pencatatan pengaduan hanya untuk pejabat penghubung.")
    return render_template("intake.html", form={"diterima": _local_value(moment)}, channels=workflow.MANUAL_CHANNELS,
                           latest=_local_value(moment))


def allow_scans() -> None:
    """Manual intake takes a letter's scan or photo (up to media.MAX_BYTES); every other form stays
    within the app's MAX_CONTENT_LENGTH. Runs before the form is read (the CSRF check reads it)."""
    if request.endpoint == "inbox.intake" and request.method == "POST":
        request.max_content_length = media.MAX_BYTES + 1024 * 1024


def _local_input(value: str, what: str) -> datetime | None:
    """A date and time typed in WITA (a datetime-local field) as stored (naive UTC); None when empty."""
    if not value.strip():
        return None
    try:
        typed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise workflow.WorkflowError(f"{what}: tulis tanggal dan jam, misalnya 2026-12-04 09:30.") from None
    return typed.replace(tzinfo=WITA).astimezone(timezone.utc).replace(tzinfo=None)


def _local_value(moment: datetime) -> str:
    """A stored moment as a datetime-local field shows it (WITA)."""
    return moment.replace(tzinfo=timezone.utc).astimezone(WITA).strftime("%Y-%m-%dT%H:%M")
