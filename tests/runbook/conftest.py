"""One local stack per test module (tests/runbook/stack.py): the Procfile's processes and nginx."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.runbook.stack import NGINX, ROOT, Stack

F = TypeVar("F", bound=Callable[..., Any])

NEEDS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("node") is None or not (ROOT / "baileys" / "node_modules").is_dir(),
        reason="needs Node 20+ and baileys/node_modules (scripts/test-baileys.sh installs them)",
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None or shutil.which("redis-cli") is None,
                       reason="needs redis-server and redis-cli"),
    pytest.mark.skipif(not Path(NGINX).exists(), reason="needs nginx (scripts/system-packages.sh)"),
]


def needs_stack(test: F) -> F:
    """The marks of a test that runs the local stack: slow, and skipped without its programs."""
    for mark in NEEDS:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole local stack, up and healthy, under a fresh ``var``; stopped after the module."""
    up = Stack.up(tmp_path_factory.mktemp("runbook") / "var")
    try:
        yield up
    finally:
        up.close()
