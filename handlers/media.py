"""Copy evidence (photos, documents) from the provider into the project's media store."""
from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import BinaryIO

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.runtime import Services
from store.db import now
from store.models import Attachment

log = logging.getLogger(__name__)
MAX_BYTES = 20 * 1024 * 1024  # WhatsApp's own limit for documents is below this


class MediaFetchError(Exception):
    """The provider did not hand the file over this time; the job retries."""


def download(services: Services, attachment_id: int) -> None:
    """Fetch one attachment with the account's credentials and store it under MEDIA_DIR."""
    settings = services.settings
    with services.db.transaction() as s:
        att = s.get(Attachment, attachment_id)
        if att is None or att.stored_at is not None:
            return
        url, content_type, created = att.source_url, att.content_type, att.inbound_id
    auth = (settings.twilio_account_sid, settings.twilio_auth_token) if settings.twilio_auth_token else None
    try:
        # requests drops the credentials when Twilio redirects to its file storage host.
        response = requests.get(url, auth=auth, timeout=settings.twilio_timeout * 3, stream=True)
    except requests.RequestException as exc:
        raise MediaFetchError(f"attachment {attachment_id}: {type(exc).__name__}") from exc
    with response:
        if response.status_code >= 500 or response.status_code == 429:
            raise MediaFetchError(f"attachment {attachment_id}: HTTP {response.status_code}")
        if response.status_code >= 400:
            _record(services, attachment_id, error=f"HTTP {response.status_code} dari penyedia")
            log.warning("attachment %s: provider answered %s, given up", attachment_id, response.status_code)
            return
        content_type = content_type or response.headers.get("Content-Type", "application/octet-stream")
        extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
        relative = Path(f"{created // 1000:06d}") / f"{attachment_id}{extension}"
        target = settings.media_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        try:
            size = _save(response, partial)
        except requests.RequestException as exc:
            partial.unlink(missing_ok=True)
            raise MediaFetchError(f"attachment {attachment_id}: {type(exc).__name__} while reading") from exc
    if size > MAX_BYTES:
        partial.unlink()
        _record(services, attachment_id, error="Berkas lebih dari 20 MB, tidak disimpan")
        return
    partial.replace(target)
    _record(services, attachment_id, path=str(relative), size=size, content_type=content_type)
    log.info("attachment %s stored (%d bytes)", attachment_id, size)


def _save(response, path: Path) -> int:
    """Write the body to path as it arrives; stop past MAX_BYTES. Return the bytes read."""
    size = 0
    with path.open("wb") as out:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_BYTES:
                break
            out.write(chunk)
    return size


# What a liaison may attach at manual intake: a photo or a scan of the letter.
SCAN_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}


class ScanRefused(ValueError):
    """The file is not a photo or a PDF, or too large; the message says so, in Bahasa Indonesia."""


def keep_scan(s: Session, media_dir: Path, ticket_id: int, content_type: str, stream: BinaryIO) -> Attachment:
    """Store a scan or photo of a letter with its ticket (in the caller's transaction)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in SCAN_TYPES:
        raise ScanRefused("Lampiran harus foto (JPEG, PNG, WebP) atau PDF.")
    position = s.scalar(select(func.count()).where(Attachment.ticket_id == ticket_id))
    att = Attachment(inbound_id=None, ticket_id=ticket_id, position=position, source_url="", content_type=kind)
    s.add(att)
    s.flush()
    relative = Path(f"{ticket_id // 1000:06d}") / f"scan-{att.id}{SCAN_TYPES[kind]}"
    target = media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    size = 0
    with partial.open("wb") as out:
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > MAX_BYTES:
                break
            out.write(chunk)
    if size > MAX_BYTES or size == 0:
        partial.unlink()
        raise ScanRefused("Lampiran kosong atau lebih dari 20 MB.")
    partial.replace(target)
    att.path, att.size, att.stored_at = str(relative), size, now()
    return att


def record_failure(services: Services, attachment_id: int, error: str) -> None:
    """Say in the inbox why an attachment could not be kept."""
    _record(services, attachment_id, error=error)


def _record(services: Services, attachment_id: int, **values) -> None:
    with services.db.transaction() as s:
        att = s.get(Attachment, attachment_id)
        for key, value in values.items():
            setattr(att, key, value)
        if "path" in values:
            att.stored_at = now()
