"""The worker benchmark's jobs, in a module that imports nothing at load time: each forked work
horse imports it afresh, and both workers under test must pay the same, small, price for that."""

from __future__ import annotations

__all__ = ["THUMBNAIL_PX", "thumbnail", "trivial"]

THUMBNAIL_PX = 256


def trivial(n: int) -> int:
    """As little work as a job can be: the worker's own cost per job is what is measured."""
    return n + 1


def thumbnail(source: str, target: str) -> list[int]:
    """A 256 px thumbnail of a JPEG, written as a JPEG, the way an upload's thumbnail is made."""
    from PIL import Image

    with Image.open(source) as image:
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        image.convert("RGB").save(target, "JPEG", quality=85)
        return list(image.size)
