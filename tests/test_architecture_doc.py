"""``docs/ARCHITECTURE.md`` keeps the numbered sections others cite, and the repository cites
only itself: no file names a document that lives outside it."""

from __future__ import annotations

import re
import subprocess
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
    14: "Deployment",
    15: "The web app",
}


def test_numbered_sections_keep_their_topics_in_order() -> None:
    headings = re.findall(r"^## §(\d+) (.+)$", DOC.read_text(), flags=re.MULTILINE)
    numbers = [int(n) for n, _ in headings]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    found = {int(n): title for n, title in headings}
    for number, topic in SECTIONS.items():
        assert found.get(number, "").startswith(topic), (number, found.get(number))


# The notes that shaped this repository live outside it; its files must not send a reader
# there. Spelled in pieces so that this file does not cite them itself.
OUTSIDE = tuple(
    "".join(parts)
    for parts in (
        ("DESIGN", ".md"), ("RUNBOOK", ".md"), ("STYLE", ".md"), ("anchors", "-"),
        ("older-system", "-inventory"), ("aesthetics", ".md"), ("..", "/shared"), ("shared", "/reference"),
    )
)


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    this = Path(__file__).resolve()
    files = []
    for name in names:
        path = ROOT / name
        if path.resolve() == this or "fixtures/" in name or not path.is_file():
            continue
        if path.suffix in {".py", ".md", ".sh", ".cfg", ".toml", ".txt", ".mako", ".json", ".yml"}:
            files.append(path)
    return files


# The repository's own runbook shares its name with the outside one: a path to it, or a link
# from beside it in docs/, is not an outside citation.
OWN_RUNBOOK = "docs/" + "RUNBOOK" + ".md"


def _without_own_runbook(path: Path, text: str) -> str:
    text = text.replace(OWN_RUNBOOK, "")
    if path.parent == DOC.parent:
        text = text.replace("(" + "RUNBOOK" + ".md)", "")
    return text


def test_no_file_cites_a_document_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in _tracked_text_files()
        for needle in OUTSIDE
        if needle in _without_own_runbook(path, path.read_text(errors="replace"))
    ]
    assert not offenders, offenders
    assert (ROOT / OWN_RUNBOOK).is_file()


def test_every_citation_names_a_section_that_exists() -> None:
    sections = {int(n) for n in re.findall(r"^##+ §(\d+)", DOC.read_text(), flags=re.MULTILINE)}
    cited = [
        (path.relative_to(ROOT), int(n))
        for path in _tracked_text_files()
        for n in re.findall(r"ARCHITECTURE\.md\]?\(?[^§]{0,40}?§(\d+)", path.read_text(errors="replace"))
    ]
    assert len(cited) > 10
    assert not [c for c in cited if c[1] not in sections]


def test_every_repository_path_it_names_exists() -> None:
    """Paths in backticks (``api/runtime.py``, ``contracts/call_setup.py``) must exist."""
    paths = set(
        re.findall(r"`((?:api|callengine|contracts|jobs|bench|scripts|tests|docs)/[\w./-]*)`", DOC.read_text())
    )
    assert len(paths) > 5
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, missing
