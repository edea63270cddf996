"""Thumbnails as pure functions: bytes in, bytes out; no database, no files, no logging.

``jobs.media.make_thumbnail`` runs them on uploads and the worker benchmark calls them
directly. Untrusted input is bounded before it is decoded:

* Pillow's decompression-bomb guard is set explicitly (``Image.MAX_IMAGE_PIXELS``) and its
  warning (above the limit, below twice it) is an error too, not a log line;
* a declared size above ``max_pixels`` is refused from the header, before any pixel is decoded;
* only the four image formats an upload may have are tried (``Image.open(formats=…)``), and a
  truncated file is an error (``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off);
* a PDF's first page is rendered with pypdfium2 (PDFium, Chrome's PDF engine) at the scale that
  gives the thumbnail's size, so a page of any declared size costs the same.

Every refusal is a ``ThumbnailError`` whose message is the reason stored on the attachment.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import final

import pypdfium2 as pdfium
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

__all__ = [
    "MAX_PDF_PAGE_POINTS",
    "MAX_PIXELS",
    "MAX_SIDE",
    "Thumbnail",
    "ThumbnailError",
    "pdf_thumbnail",
    "render_thumbnail",
    "thumbnail_bytes",
]

MAX_SIDE = 320  # pixels: a list item or a chat bubble; retina lists scale it down, not up
MAX_PIXELS = 50_000_000  # a 50 MP camera photo decodes (~150 MB RGB); a bomb declaring more is refused
MAX_PDF_PAGE_POINTS = 14_400  # PDF's own page-size limit (200 inches); beyond it the file is bogus
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")  # what an upload may be (api.services.attachments)
JPEG_QUALITY = 80

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb check, set rather than inherited
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated upload is failed, never half-rendered


class ThumbnailError(ValueError):
    """The input cannot be thumbnailed; the message says why (shown to the user)."""


@final
@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    mime: str  # image/jpeg, or image/webp when the source has transparency
    extension: str
    width: int
    height: int


def thumbnail_bytes(data: bytes, max_side: int = MAX_SIDE) -> bytes:
    """The thumbnail of the image ``data`` (see ``render_thumbnail``), as its encoded bytes."""
    return render_thumbnail(data, max_side).data


def render_thumbnail(data: bytes, max_side: int = MAX_SIDE, *, max_pixels: int = MAX_PIXELS) -> Thumbnail:
    """Decode the image ``data`` (JPEG, PNG, GIF, WebP; the first frame of an animation), turn
    it upright by its EXIF orientation and fit it in ``max_side`` × ``max_side``.

    Raises:
        ThumbnailError: not an image of those formats, corrupt or truncated, or larger than
            ``max_pixels`` (or Pillow's bomb limit) by its declared size.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as probe:
                _check_size(probe.size, max_pixels)
                probe.verify()  # structure and checksums (PNG CRCs) without decoding pixels
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
                image.seek(0)
                image.thumbnail((max_side, max_side))  # JPEG decodes at a reduced scale (draft)
                upright = ImageOps.exif_transpose(image)
                return _encode(upright)
        except ThumbnailError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ThumbnailError(f"image too large: {exc}") from exc
        except UnidentifiedImageError as exc:
            raise ThumbnailError("not a valid JPEG, PNG, GIF or WebP image (corrupt, or another format)") from exc
        except Exception as exc:  # noqa: BLE001 - Pillow reports corrupt data as OSError, SyntaxError, struct.error, …
            raise ThumbnailError(f"corrupt or truncated image: {type(exc).__name__}: {exc}") from exc


def _check_size(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ThumbnailError(f"image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ThumbnailError(
            f"image too large: {width}x{height} is {width * height / 1e6:.1f} megapixels, "
            f"the limit is {max_pixels / 1e6:.1f}"
        )


def _encode(image: Image.Image) -> Thumbnail:
    """JPEG for opaque images; WebP (lossy, with alpha) when there is transparency to keep."""
    transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if transparent:
        image.convert("RGBA").save(out, "WEBP", quality=JPEG_QUALITY)
        mime, extension = "image/webp", "webp"
    else:
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        mime, extension = "image/jpeg", "jpg"
    return Thumbnail(out.getvalue(), mime, extension, image.width, image.height)


def pdf_thumbnail(data: bytes, max_side: int = MAX_SIDE) -> Thumbnail:
    """The first page of the PDF ``data``, rendered to fit ``max_side`` × ``max_side``.

    Raises:
        ThumbnailError: not a PDF PDFium can open (corrupt, encrypted), no pages, or a page of
            a size no real document has.
    """
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ThumbnailError(f"not a readable PDF: {exc}") from exc
    try:
        if len(document) < 1:
            raise ThumbnailError("the PDF has no pages")
        page = document[0]
        try:
            width, height = page.get_size()  # points (1/72 inch)
            if not (0 < width <= MAX_PDF_PAGE_POINTS and 0 < height <= MAX_PDF_PAGE_POINTS):
                raise ThumbnailError(f"the PDF's first page has an impossible size ({width:.0f}x{height:.0f} points)")
            bitmap = page.render(scale=max_side / max(width, height))
            try:
                image = bitmap.to_pil()
                image.thumbnail((max_side, max_side))  # rounding may leave a pixel over
                return _encode(image.convert("RGB"))
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise ThumbnailError(f"the PDF's first page cannot be rendered: {exc}") from exc
    finally:
        document.close()
