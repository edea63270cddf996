"""``make_thumbnail``: the thumbnail of an uploaded attachment (``contracts.jobs.MAKE_THUMBNAIL``).

The payload is ``{"version": 1, "attachment_id": N}`` (``contracts.job_payloads``). The image
work is the pure ``jobs.thumbnails``; this shell reads the row and the file, writes the
thumbnail next to the original (atomically) and records the outcome on the row:

* ``ready`` with ``thumbnail_path``: an image, or a PDF whose first page rendered;
* ``failed`` with ``error``: corrupt, truncated, too large (decompression bomb), not an image,
  the file missing, or a file that took longer than the job's timeout (RQ's death penalty
  raises ``JobTimeoutException`` inside the job; caught here so the row does not stay
  ``pending``). The job itself *completes*: retrying cannot fix the file, and nothing about a
  bad upload may crash the worker.

A payload that does not parse, or an attachment row that does not exist, raises
``PermanentJobError`` (dead-lettered at once). A database or disk error propagates, so RQ
retries the job (``MAKE_THUMBNAIL.retry_intervals``). Idempotent: a row already ``ready`` or
``failed`` is left as it is.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rq.timeouts import JobTimeoutException

from api.db.models import Attachment, AttachmentStatus
from api.services.attachments import PDF, media_path, thumbnail_name, write_atomically
from api.settings import Settings
from contracts.job_payloads import read_attachment_ref
from contracts.jobs import MAKE_THUMBNAIL, PermanentJobError
from jobs.db import job_session
from jobs.thumbnails import Thumbnail, ThumbnailError, pdf_thumbnail, render_thumbnail, thumbnail_bytes

__all__ = ["make_thumbnail", "thumbnail_bytes"]  # thumbnail_bytes: the pure image work (benchmarks)

log = logging.getLogger(__name__)


def make_thumbnail(payload: Any) -> dict[str, Any]:
    """Make the attachment's thumbnail; returns ``{"attachment_id", "status", ...}``.

    Raises:
        contracts.job_payloads.PayloadError: the payload does not parse (permanent).
        PermanentJobError: no attachment row with that id.
        sqlalchemy.exc.OperationalError, OSError: the database or the media volume failed
            (RQ retries).
    """
    ref = read_attachment_ref(payload)
    with job_session() as session:
        row = session.get(Attachment, ref.attachment_id)
        if row is None:
            raise PermanentJobError(f"make_thumbnail: attachment {ref.attachment_id} does not exist")
        status, relative, mime = row.status, row.path, row.mime
    if status != AttachmentStatus.PENDING:
        return {"attachment_id": ref.attachment_id, "status": status, "skipped": "already processed"}

    media_dir = Settings.from_env().media_dir
    try:
        made = _thumbnail_of(media_dir, relative, mime)
    except ThumbnailError as exc:
        return _finish(ref.attachment_id, AttachmentStatus.FAILED, error=str(exc))
    except JobTimeoutException:
        return _finish(ref.attachment_id, AttachmentStatus.FAILED,
                       error=f"the file took longer than {MAKE_THUMBNAIL.timeout_seconds} s to process")
    target = thumbnail_name(relative, made.extension)
    destination = media_path(media_dir, target)
    if destination is None:  # only a tampered row's path could leave MEDIA_DIR
        return _finish(ref.attachment_id, AttachmentStatus.FAILED, error="the stored path is outside MEDIA_DIR")
    write_atomically(destination, made.data)
    return _finish(ref.attachment_id, AttachmentStatus.READY, thumbnail=target)


def _thumbnail_of(media_dir: Path, relative: str, mime: str) -> Thumbnail:
    path = media_path(media_dir, relative)
    if path is None:
        raise ThumbnailError("the stored path is outside MEDIA_DIR")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ThumbnailError(f"the uploaded file is missing ({relative})") from None
    if mime == PDF:
        return pdf_thumbnail(data)
    return render_thumbnail(data)


def _finish(attachment_id: int, status: AttachmentStatus, *, error: str = "", thumbnail: str | None = None) -> dict[str, Any]:
    with job_session() as session:
        row = session.get(Attachment, attachment_id)
        if row is None:  # deleted while the job ran: nothing left to mark
            raise PermanentJobError(f"make_thumbnail: attachment {attachment_id} was deleted")
        row.status, row.error, row.thumbnail_path = status, error, thumbnail
    if status == AttachmentStatus.FAILED:
        log.warning("attachment %s: thumbnail failed: %s", attachment_id, error)
    else:
        log.info("attachment %s: thumbnail ready at %s", attachment_id, thumbnail)
    return {"attachment_id": attachment_id, "status": str(status), "error": error, "thumbnail_path": thumbnail}
