"""``/api/attachments``: upload a file, read its row, download it and its thumbnail.

An upload is one ``multipart/form-data`` part named ``file``, at most ``MAX_UPLOAD_BYTES``
(a larger body is refused with 413 while it arrives: ``api.validation.ApiRequest``). Its type is
read from the bytes (JPEG, PNG, GIF, WebP, PDF; anything else is 415). The file is stored once
per content (``api.services.attachments``), a ``pending`` row is committed and then the
thumbnail job is queued (``jobs.enqueue.enqueue_thumbnail``); the job marks the row ``ready`` or
``failed`` with the reason (docs/ARCHITECTURE.md §5).
"""

from __future__ import annotations

import logging

import trio
from quart import Blueprint, Response, current_app, jsonify
from quart_schema import DataSource, tag_blueprint, validate_querystring, validate_request
from quart_trio.wrappers.response import TrioFileBody
from redis import RedisError

from api.auth import authenticated
from api.errors import ApiError, PayloadTooLarge, Unavailable
from api.openapi import responds
from api.responses import Attachment
from api.runtime import DB_RETRY_AFTER_SECONDS, Runtime, current_runtime
from api.schemas import AttachmentUpload, ScopeQuery, path_id
from api.security import Caller
from api.services import attachments
from jobs.enqueue import enqueue_thumbnail

__all__ = ["bp"]

log = logging.getLogger(__name__)
bp = Blueprint("attachments", __name__, url_prefix="/api/attachments")
tag_blueprint(bp, ["attachments"])
ID = path_id("attachment_id")
ALLOWED = ", ".join(sorted(attachments.ALLOWED_TYPES))


class UnsupportedMediaType(ApiError):
    status = 415
    default_code = "unsupported_media_type"


@bp.post("")
@authenticated()
@validate_querystring(ScopeQuery)
@validate_request(AttachmentUpload, source=DataSource.FORM_MULTIPART)
@responds(201, "stored; the thumbnail job is queued (status pending)", model=Attachment)
@responds(404, "the business named by a system admin does not exist")
@responds(413, "the file is larger than MAX_UPLOAD_BYTES (details.limit_bytes)")
@responds(415, "not a JPEG, PNG, GIF, WebP or PDF file (judged by its bytes)")
@responds(503, "the thumbnail job could not be queued (Redis unreachable); nothing was kept")
async def upload(caller: Caller, query_args: ScopeQuery, data: AttachmentUpload) -> tuple[Response, int]:
    """Upload a file (multipart field "file")

    The type is read from the file's bytes, never from its Content-Type or name. The same bytes
    uploaded twice are stored once, with a row each.
    """
    business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    await rt.db(attachments.check_business, business_id)
    limit = rt.settings.max_upload_bytes
    content = await trio.to_thread.run_sync(data.file.stream.read, limit + 1)
    if len(content) > limit:
        raise PayloadTooLarge(f"an uploaded file may have at most {limit} bytes (MAX_UPLOAD_BYTES)",
                              details={"limit_bytes": limit})
    mime = attachments.sniff(content)
    if mime is None:
        raise UnsupportedMediaType(f"the file is not one of {ALLOWED} (judged by its bytes, not its name or type)",
                                   details={"allowed": sorted(attachments.ALLOWED_TYPES)})
    stored = await trio.to_thread.run_sync(attachments.store_bytes, rt.settings.media_dir, business_id, content, mime)
    row = await rt.db(attachments.create_attachment, business_id, stored)
    await _queue_thumbnail(rt, business_id, row["id"])
    return jsonify(row), 201


async def _queue_thumbnail(rt: Runtime, business_id: int, attachment_id: int) -> None:
    """Queue the job after the row is committed (so the job finds it); when Redis cannot take
    it, drop the row again rather than leave one ``pending`` forever, and answer 503."""
    client = rt.queue_redis()
    try:
        await trio.to_thread.run_sync(enqueue_thumbnail, client, attachment_id, limiter=rt.redis_limiter)
    except RedisError as exc:
        log.warning("attachment %s: thumbnail job not queued, upload refused: %s", attachment_id, exc)
        await rt.db(attachments.delete_attachment, business_id, attachment_id)
        raise Unavailable("the upload could not be queued for processing (Redis unreachable); retry shortly",
                          code="redis_unavailable", retry_after_seconds=DB_RETRY_AFTER_SECONDS) from exc


@bp.get(f"/{ID}")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the attachment: status pending, ready or failed (with the error)", model=Attachment)
async def get_attachment(caller: Caller, query_args: ScopeQuery, attachment_id: int) -> Response:
    """Attachment detail and thumbnail status"""
    business_id = caller.scope(query_args.business_id)
    return jsonify(await current_runtime().db(attachments.get_attachment, business_id, attachment_id))


@bp.get(f"/{ID}/content")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the uploaded file, with its sniffed Content-Type", content="application/octet-stream")
async def content(caller: Caller, query_args: ScopeQuery, attachment_id: int) -> Response:
    """Download the uploaded file"""
    return await _send(caller, query_args, attachment_id, thumbnail=False)


@bp.get(f"/{ID}/thumbnail")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the thumbnail (JPEG, or WebP when the image has transparency)", content="image/jpeg")
async def thumbnail(caller: Caller, query_args: ScopeQuery, attachment_id: int) -> Response:
    """Download the thumbnail (404 thumbnail_not_ready until it exists)"""
    return await _send(caller, query_args, attachment_id, thumbnail=True)


async def _send(caller: Caller, query_args: ScopeQuery, attachment_id: int, *, thumbnail: bool) -> Response:
    business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    path, mime = await rt.db(
        lambda s: attachments.attachment_file(s, business_id, attachment_id, rt.settings.media_dir, thumbnail=thumbnail)
    )
    body = TrioFileBody(path)
    kind = "thumbnail" if thumbnail else "file"
    headers = {
        "Content-Length": str(body.end - body.begin),
        "Cache-Control": "private, no-store",  # a business's files: no shared cache may keep them
        "X-Content-Type-Options": "nosniff",  # a PDF or image is never run as a page
        "Content-Disposition": f"attachment; filename=attachment-{attachment_id}-{kind}.{path.suffix.lstrip('.')}",
    }
    return current_app.response_class(body, status=200, headers=headers, mimetype=mime)
