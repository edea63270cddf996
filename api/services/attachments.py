"""Uploaded files of one business: type sniffing, content-addressed storage, rows, lookups.

Files live under ``MEDIA_DIR/<business_id>/<sha256>.<ext>`` (docs/ARCHITECTURE.md §6); the row's
``path`` is that path *relative to* ``MEDIA_DIR``, so the API and the workers may mount the
directory at different places. The same bytes uploaded twice are stored once (the name is their
hash) but get a row each. A thumbnail sits next to its original as
``<sha256>.thumb.<jpg|webp>`` and is written by ``jobs.media.make_thumbnail``, which uses this
module's row and path helpers (the jobs may import it: docs/ARCHITECTURE.md §10).

The type is read from the bytes (magic numbers), never from the client's Content-Type or file
name: a renamed executable is refused, not stored as "image/png".
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Attachment, AttachmentStatus, Business
from api.errors import NotFound
from api.services.common import iso

__all__ = [
    "ALLOWED_TYPES",
    "PDF",
    "StoredFile",
    "attachment_json",
    "attachment_file",
    "check_business",
    "create_attachment",
    "delete_attachment",
    "get_attachment",
    "media_path",
    "sniff",
    "store_bytes",
    "thumbnail_name",
    "write_atomically",
]

PDF = "application/pdf"
# The types an upload may have: (mime, file extension), chosen by the bytes' magic number.
ALLOWED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    PDF: "pdf",
}


def sniff(data: bytes) -> str | None:
    """The MIME type of ``data`` among ``ALLOWED_TYPES`` by its leading bytes, else ``None``.

    Only the signature is checked: whether the rest decodes is the thumbnail job's question
    (a corrupt image is stored and then marked failed, with the reason).
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return PDF
    return None


@final
@dataclass(frozen=True, slots=True)
class StoredFile:
    """An upload on disk: ``path`` relative to ``MEDIA_DIR``."""

    path: str
    mime: str
    size_bytes: int
    sha256: str


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file in the same directory and a rename,
    so a reader (or a crash) never sees half a file; the directory is created if needed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def store_bytes(media_dir: Path, business_id: int, data: bytes, mime: str) -> StoredFile:
    """Store ``data`` (already sniffed as ``mime``) content-addressed; blocking (run in a thread).

    A file of the same name already holds the same bytes (the name is their SHA-256), so it is
    not written again.
    """
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{business_id}/{digest}.{ALLOWED_TYPES[mime]}"
    target = media_dir / relative
    if not (target.is_file() and target.stat().st_size == len(data)):
        write_atomically(target, data)
    return StoredFile(path=relative, mime=mime, size_bytes=len(data), sha256=digest)


def media_path(media_dir: Path, relative: str) -> Path | None:
    """``relative`` resolved inside ``media_dir``, or ``None`` when it would leave it."""
    root = media_dir.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path != root else None


def thumbnail_name(original: str, extension: str) -> str:
    """The thumbnail's path next to ``original`` (both relative to ``MEDIA_DIR``)."""
    stem = original.rsplit(".", 1)[0]
    return f"{stem}.thumb.{extension}"


def attachment_json(row: Attachment) -> dict[str, Any]:
    ready_thumbnail = row.status == AttachmentStatus.READY and bool(row.thumbnail_path)
    return {
        "id": row.id,
        "business_id": row.business_id,
        "message_id": row.message_id,
        "mime": row.mime,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "status": row.status,
        "error": row.error,
        "content_url": f"/api/attachments/{row.id}/content",
        "thumbnail_url": f"/api/attachments/{row.id}/thumbnail" if ready_thumbnail else None,
        "created_at": iso(row.created_at),
    }


def check_business(session: Session, business_id: int) -> None:
    """A system admin may name any business id: refuse one that does not exist before its
    file is stored (and before the row's foreign key would).

    Raises:
        NotFound: ``business_not_found``.
    """
    if session.get(Business, business_id) is None:
        raise NotFound(f"business {business_id} not found", code="business_not_found")


def create_attachment(session: Session, business_id: int, stored: StoredFile) -> dict[str, Any]:
    """A new ``pending`` row for an upload stored by ``store_bytes``.

    Raises:
        NotFound: the business does not exist (``business_not_found``).
    """
    check_business(session, business_id)
    row = Attachment(business_id=business_id, path=stored.path, mime=stored.mime, size_bytes=stored.size_bytes,
                     sha256=stored.sha256, status=AttachmentStatus.PENDING)
    session.add(row)
    session.flush()
    return attachment_json(row)


def delete_attachment(session: Session, business_id: int, attachment_id: int) -> None:
    """Remove a row whose thumbnail job could not be queued (the file stays: it may be shared)."""
    row = _get(session, business_id, attachment_id)
    session.delete(row)


def _get(session: Session, business_id: int, attachment_id: int) -> Attachment:
    row = session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.business_id == business_id)
    )
    if row is None:
        raise NotFound(f"attachment {attachment_id} not found", code="attachment_not_found")
    return row


def get_attachment(session: Session, business_id: int, attachment_id: int) -> dict[str, Any]:
    return attachment_json(_get(session, business_id, attachment_id))


def attachment_file(
    session: Session, business_id: int, attachment_id: int, media_dir: Path, *, thumbnail: bool
) -> tuple[Path, str]:
    """(path, mime) of the attachment's file or of its thumbnail, only if it lies inside
    ``media_dir`` and exists.

    Raises:
        NotFound: no such attachment in the business (``attachment_not_found``); no thumbnail
            (yet, or ever: ``thumbnail_not_ready`` names the status); the file is gone
            (``file_not_found``).
    """
    row = _get(session, business_id, attachment_id)
    if thumbnail:
        if row.status != AttachmentStatus.READY or not row.thumbnail_path:
            reason = {
                AttachmentStatus.PENDING: "the thumbnail is not ready yet (status pending)",
                AttachmentStatus.FAILED: f"no thumbnail: {row.error or 'the thumbnail job failed'}",
            }.get(AttachmentStatus(row.status), "this attachment has no thumbnail")
            raise NotFound(reason, code="thumbnail_not_ready", details={"status": row.status})
        relative, mime = row.thumbnail_path, _thumbnail_mime(row.thumbnail_path)
    else:
        relative, mime = row.path, row.mime
    path = media_path(media_dir, relative)
    if path is None or not path.is_file():
        raise NotFound("the file is not available", code="file_not_found")
    return path, mime


def _thumbnail_mime(relative: str) -> str:
    return "image/webp" if relative.endswith(".webp") else "image/jpeg"
