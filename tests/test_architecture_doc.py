"""``docs/ARCHITECTURE.md`` keeps the numbered sections others cite, and cites only this repository."""

from __future__ import annotations

import re
from pathlib import Path

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ARCHITECTURE.md"

# Code and the README cite these as "docs/ARCHITECTURE.md §N": renumbering breaks them.
SECTIONS = {
    1: "Services",
    2: "A phone call, end to end",
    3: "Redis keys",
    4: "Brains",
    5: "Queues and jobs",
    6: "Data",
    7: "WhatsApp gateway",
    8: "Environment",
    9: "The call actor",
    10: "Contracts",
    11: "Twilio Media Streams facts",
    12: "Stack notes",
    13: "Load testing",
}


def test_numbered_sections_keep_their_topics_in_order() -> None:
    headings = re.findall(r"^## §(\d+) (.+)$", DOC.read_text(), flags=re.MULTILINE)
    numbers = [int(n) for n, _ in headings]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    found = {int(n): title for n, title in headings}
    for number, topic in SECTIONS.items():
        assert found.get(number, "").startswith(topic), (number, found.get(number))


def test_cites_no_file_outside_the_repository() -> None:
    text = DOC.read_text()
    for outside in ("DESIGN.md", "RUNBOOK.md", "anchors-", "../shared", "shared/reference"):
        assert outside not in text, outside


def test_every_repository_path_it_names_exists() -> None:
    """Paths in backticks (``api/runtime.py``, ``callengine/turns/``) must exist; ``contracts/``
    is the package this document describes alongside (it lands with the contracts work)."""
    paths = set(re.findall(r"`((?:api|callengine|jobs|bench|scripts|tests|docs)/[\w./-]*)`", DOC.read_text()))
    assert len(paths) > 5
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, missing
