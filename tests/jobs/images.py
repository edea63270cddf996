"""Real files for the thumbnail tests, made by Pillow (and by hand where Pillow would refuse to
write them: a PNG whose header declares 30000x30000 pixels over a few bytes of data)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

__all__ = ["bomb_png", "corrupt_png", "gif", "jpeg", "pdf", "png", "png_header_only", "truncated_jpeg"]


def png(size: tuple[int, int] = (800, 400), mode: str = "RGB", color: object = "red") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")  # type: ignore[arg-type]
    return out.getvalue()


def jpeg(size: tuple[int, int] = (800, 400), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, "blue")
    image.paste((255, 255, 0), (0, 0, size[0] // 4, size[1]))  # a yellow band on the left, to see rotation
    exif = image.getexif()
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def gif(frames: int = 3) -> bytes:
    images = [Image.new("P", (640, 320), i) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100)
    return out.getvalue()


def pdf(size: tuple[int, int] = (612, 792)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PDF")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((800, 800), 50).convert("RGB").save(out, "JPEG")
    data = out.getvalue()
    return data[: len(data) // 2]


def corrupt_png() -> bytes:
    """The PNG signature, then garbage."""
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG declaring ``width`` x ``height`` RGB pixels with almost no pixel data."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")


def bomb_png() -> bytes:
    """A decompression bomb: a tiny PNG declaring 30000x30000 pixels (900 MP)."""
    return png_header_only(30_000, 30_000)
