"""The worker benchmark's jobs, in a module that imports nothing at load time: each forked work
horse imports it afresh, and both workers under test must pay the same, small, price for that."""

from __future__ import annotations

__all__ = ["thumbnail", "trivial"]


def trivial(n: int) -> int:
    """As little work as a job can be: the worker's own cost per job is what is measured."""
    return n + 1


def thumbnail(source: str, target: str) -> list[int]:
    """A thumbnail of a JPEG made by the uploads' own image code (``jobs.thumbnails``: bomb
    checks, verify, EXIF turn, fit in 320 px), written next to it, as the thumbnail job does
    without its database round trips."""
    from pathlib import Path

    from jobs.thumbnails import render_thumbnail

    made = render_thumbnail(Path(source).read_bytes())
    Path(target).write_bytes(made.data)
    return [len(made.data)]
