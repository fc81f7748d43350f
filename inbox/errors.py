"""Error pages in Bahasa Indonesia, in the inbox's layout, with a plain sentence and a way back.

The machine-facing paths (webhooks, /metrics, /healthz) keep their short answers."""
from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

MACHINE_PATHS = ("/webhooks/", "/metrics", "/healthz")
SAID = {
    400: "Permintaan ini tidak dapat diproses.",
    403: "Anda tidak berwenang melakukan ini.",
    404: "Halaman atau tiket ini tidak ditemukan, atau bukan milik instansi Anda.",
    405: "Halaman ini tidak dibuka dengan cara itu.",
    413: "Kiriman terlalu besar. Perkecil lampiran atau isinya, lalu coba lagi.",
    500: "Terjadi kesalahan pada sistem. Coba lagi sebentar lagi; bila berulang, hubungi pengelola sistem.",
}


def init_app(app) -> None:
    app.register_error_handler(HTTPException, _page)
    app.register_error_handler(InternalServerError, _page)


def _page(error: HTTPException):
    if request.path.startswith(MACHINE_PATHS) or error.code not in SAID:
        return error
    # What the gateway itself says (abort(403, "...")) is Indonesian and said too; werkzeug's English is not.
    detail = error.description if error.description != type(error).description else ""
    back = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else None
    return render_template("error.html", code=error.code, said=SAID[error.code], detail=detail, back=back), error.code
