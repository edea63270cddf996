"""What ``/version`` reports: package version, git commit and build time.

GIT_COMMIT and BUILD_TIME come from the environment (an image build would set them); in a
checkout without them the commit is read once from ``.git`` and ``build_time`` is JSON
``null`` (unknown) rather than invented; a commit found nowhere is ``null`` too. The README's
API table says the same.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api import __version__

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ["build_info"]

REPO_ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def _git_commit() -> str | None:
    if not (REPO_ROOT / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def build_info(settings: Settings) -> dict[str, Any]:
    commit = settings.git_commit or _git_commit()
    return {
        "name": "prosaas-api",
        "version": __version__,
        "git_commit": commit,
        "git_commit_source": "env" if settings.git_commit else ("git" if commit else None),
        "build_time": settings.build_time or None,
    }
