"""The thumbnail job: the pure image functions on real files, and ``make_thumbnail`` against
both databases and a real Redis queue run by a burst worker."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from PIL import Image
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.db.models import Attachment, AttachmentStatus, Business
from contracts.job_payloads import PayloadError
from contracts.jobs import MAKE_THUMBNAIL, PermanentJobError
from jobs import media
from jobs.enqueue import enqueue_thumbnail, thumbnail_job_id
from jobs.media import make_thumbnail
from jobs.thumbnails import (
    MAX_PIXELS,
    Thumbnail,
    ThumbnailError,
    pdf_thumbnail,
    render_thumbnail,
    thumbnail_bytes,
)
from tests.api.conftest import REDIS_URL
from tests.fakes.burst_worker import run_burst
from tests.jobs import images

# --- the pure functions ---------------------------------------------------------------------


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_thumbnail_fits_the_box_and_keeps_the_aspect_ratio() -> None:
    thumb = render_thumbnail(images.png((1000, 500)))
    assert (thumb.mime, thumb.width, thumb.height) == ("image/jpeg", 320, 160)
    image = opened(thumb.data)
    assert (image.format, image.size) == ("JPEG", (320, 160))
    assert opened(thumbnail_bytes(images.png((1000, 500)), max_side=100)).size == (100, 50)
    assert render_thumbnail(images.png((40, 30))).width == 40  # never enlarged


def test_exif_orientation_is_applied() -> None:
    thumb = opened(thumbnail_bytes(images.jpeg((800, 400), orientation=6)))  # "rotate 90° clockwise"
    assert thumb.size == (160, 320)
    top = thumb.getpixel((80, 10))
    assert isinstance(top, tuple) and top[0] > 200 and top[1] > 200  # the yellow band is now on top


def test_transparency_is_kept_as_webp_and_palette_images_work() -> None:
    thumb = render_thumbnail(images.png((100, 500), "RGBA", (0, 0, 0, 0)))
    assert (thumb.mime, thumb.extension) == ("image/webp", "webp")
    assert opened(thumb.data).mode == "RGBA"
    palette = Image.new("P", (64, 64), 3)
    palette.info["transparency"] = 3
    out = io.BytesIO()
    palette.save(out, "PNG", transparency=3)
    assert render_thumbnail(out.getvalue()).mime == "image/webp"
    assert render_thumbnail(images.png((64, 64), "P", 5)).mime == "image/jpeg"  # opaque palette
    assert render_thumbnail(images.png((64, 64), "L", 100)).mime == "image/jpeg"


def test_an_animated_gif_gives_its_first_frame() -> None:
    thumb = render_thumbnail(images.gif(frames=3))
    assert (thumb.mime, thumb.width, thumb.height) == ("image/jpeg", 320, 160)


def test_the_first_page_of_a_pdf_is_rendered() -> None:
    thumb = pdf_thumbnail(images.pdf((612, 792)))
    assert thumb.mime == "image/jpeg" and max(thumb.width, thumb.height) == 320
    assert opened(thumb.data).size == (thumb.width, thumb.height)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (images.bomb_png(), "image too large"),  # 900 MP declared: Pillow's DecompressionBombError
        (images.png_header_only(8000, 7000), "image too large"),  # 56 MP: Pillow's warning, an error here
        (images.truncated_jpeg(), "corrupt or truncated image"),
        (images.corrupt_png(), "not a valid JPEG, PNG, GIF or WebP image"),
        (images.gif()[:200], "corrupt or truncated image"),
        (b"just some text, not an image", "not a valid"),
        (images.pdf(), "not a valid"),  # a PDF is not one of the image formats tried
    ],
    ids=["bomb-30000x30000", "bomb-warning-zone", "truncated-jpeg", "corrupt-png", "truncated-gif", "text", "pdf"],
)
def test_bad_images_raise_a_thumbnail_error_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ThumbnailError, match=reason):
        render_thumbnail(data)


def test_a_size_above_the_cap_is_refused_from_the_header_before_decoding() -> None:
    # The pixel data is garbage: a decoder would call it corrupt. The header alone refuses it.
    data = images.png_header_only(2000, 1000)
    with pytest.raises(ThumbnailError, match=r"2000x1000 is 2.0 megapixels, the limit is 1.0"):
        render_thumbnail(data, max_pixels=1_000_000)
    with pytest.raises(ThumbnailError, match="corrupt"):
        render_thumbnail(data)  # under the default cap it is decoded, and found corrupt
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS  # Pillow's own guard is set, not its default


@pytest.mark.parametrize("data", [b"%PDF-1.4 not really", images.pdf()[:200], b"%PDF-1.7\n%%EOF"])
def test_bad_pdfs_raise_a_thumbnail_error(data: bytes) -> None:
    with pytest.raises(ThumbnailError, match="PDF"):
        pdf_thumbnail(data)


# --- the job ----------------------------------------------------------------------------------


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "media"
    monkeypatch.setenv("MEDIA_DIR", str(path))  # the job reads it through api.settings
    return path


@pytest.fixture
def session(job_db: str) -> Iterator[Session]:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as s:
        s.add(Business(name="Media Co", phone_e164="+15550100000"))
        s.commit()
        yield s
    engine.dispose()


def attach(session: Session, media_dir: Path, data: bytes | None, mime: str = "image/png") -> int:
    """A pending attachment row; its file holds ``data`` (``None``: no file on disk)."""
    digest = hashlib.sha256(data or b"").hexdigest()
    relative = f"1/{digest}.{mime.rsplit('/', 1)[1]}"
    if data is not None:
        (media_dir / "1").mkdir(parents=True, exist_ok=True)
        (media_dir / relative).write_bytes(data)
    row = Attachment(business_id=1, path=relative, mime=mime, size_bytes=len(data or b""), sha256=digest)
    session.add(row)
    session.commit()
    return row.id


def reloaded(session: Session, attachment_id: int) -> Attachment:
    session.expire_all()
    row = session.get(Attachment, attachment_id)
    assert row is not None
    return row


def test_make_thumbnail_writes_the_thumbnail_next_to_the_original(session: Session, media_dir: Path) -> None:
    attachment_id = attach(session, media_dir, images.png((1000, 500)))
    outcome = make_thumbnail({"version": 1, "attachment_id": attachment_id})
    row = reloaded(session, attachment_id)
    assert (row.status, row.error) == ("ready", "") and outcome["status"] == "ready"
    assert row.thumbnail_path == row.path.replace(".png", ".thumb.jpg")
    assert opened((media_dir / row.thumbnail_path).read_bytes()).size == (320, 160)
    assert not [p for p in (media_dir / "1").iterdir() if p.name.startswith(".")]  # no temporary file left
    # idempotent: a second delivery changes nothing
    assert make_thumbnail({"version": 1, "attachment_id": attachment_id})["skipped"] == "already processed"


def test_a_pdf_gets_its_first_page_as_thumbnail(session: Session, media_dir: Path) -> None:
    attachment_id = attach(session, media_dir, images.pdf(), mime="application/pdf")
    make_thumbnail({"version": 1, "attachment_id": attachment_id})
    row = reloaded(session, attachment_id)
    assert row.status == "ready" and row.thumbnail_path and row.thumbnail_path.endswith(".thumb.jpg")
    assert max(opened((media_dir / row.thumbnail_path).read_bytes()).size) == 320


@pytest.mark.parametrize(
    ("data", "mime", "reason"),
    [
        (images.corrupt_png(), "image/png", "not a valid JPEG, PNG, GIF or WebP image"),
        (images.truncated_jpeg(), "image/jpeg", "corrupt or truncated image"),
        (images.bomb_png(), "image/png", "image too large"),
        (b"this is not an image at all", "image/png", "not a valid"),
        (b"%PDF-1.4 broken", "application/pdf", "not a readable PDF"),
        (None, "image/png", "the uploaded file is missing"),
    ],
    ids=["corrupt", "truncated", "bomb", "not-an-image", "corrupt-pdf", "missing-file"],
)
def test_bad_uploads_are_marked_failed_with_the_reason_and_the_job_completes(
    session: Session, media_dir: Path, data: bytes | None, mime: str, reason: str
) -> None:
    attachment_id = attach(session, media_dir, data, mime)
    outcome = make_thumbnail({"version": 1, "attachment_id": attachment_id})  # returns: no exception
    row = reloaded(session, attachment_id)
    assert row.status == AttachmentStatus.FAILED and reason in row.error, row.error
    assert row.thumbnail_path is None and outcome["status"] == "failed"


def test_a_file_that_outlasts_the_job_timeout_is_marked_failed_not_left_pending(
    session: Session, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RQ's death penalty (the same one the work horse runs each job under) fires inside the
    decoder; the decoder is made slow here because no real file is reliably slow on every machine."""

    def slow_decoder(data: bytes) -> Thumbnail:
        time.sleep(10)
        raise AssertionError("the death penalty should have fired")

    monkeypatch.setattr(media, "render_thumbnail", slow_decoder)
    attachment_id = attach(session, media_dir, images.png())
    started = time.monotonic()
    with UnixSignalDeathPenalty(1, JobTimeoutException, job_id="thumbnail-test"):
        outcome = make_thumbnail({"version": 1, "attachment_id": attachment_id})
    assert time.monotonic() - started < 5 and outcome["status"] == "failed"
    row = reloaded(session, attachment_id)
    assert row.status == "failed" and "took longer than 60 s" in row.error


@pytest.mark.parametrize(
    "payload", [None, "7", {}, {"version": 1}, {"version": 2, "attachment_id": 1}, {"version": 1, "attachment_id": "1"}]
)
def test_a_payload_that_does_not_parse_is_a_permanent_error(session: Session, media_dir: Path, payload: Any) -> None:
    with pytest.raises(PayloadError, match="make_thumbnail payload"):
        make_thumbnail(payload)


def test_an_attachment_that_does_not_exist_is_a_permanent_error(session: Session, media_dir: Path) -> None:
    with pytest.raises(PermanentJobError, match="attachment 999 does not exist"):
        make_thumbnail({"version": 1, "attachment_id": 999})


def test_a_real_worker_survives_every_bad_upload(session: Session, media_dir: Path) -> None:
    """Good and bad uploads on the real queue, one burst worker: every job *finishes* (bad files
    are marked failed, not raised), and the good ones are ready."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    try:
        bad = [attach(session, media_dir, data) for data in
               (images.bomb_png(), images.corrupt_png(), images.truncated_jpeg(), b"plain text")]
        good = [attach(session, media_dir, images.png((50 + i, 60))) for i in range(3)]
        for attachment_id in bad + good:
            assert enqueue_thumbnail(connection, attachment_id) == thumbnail_job_id(attachment_id)
        queue = Queue(MAKE_THUMBNAIL.queue, connection=connection, serializer=JSONSerializer)
        assert len(queue) == len(bad + good)
        assert run_burst(queue)
        for attachment_id in bad + good:
            job = Job.fetch(thumbnail_job_id(attachment_id), connection=connection, serializer=JSONSerializer)
            assert job.get_status() == JobStatus.FINISHED, (attachment_id, job.exc_info)
        assert {reloaded(session, i).status for i in bad} == {"failed"}
        assert {reloaded(session, i).status for i in good} == {"ready"}
    finally:
        connection.flushdb()
        connection.close()
