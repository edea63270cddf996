"""docs/RUNBOOK.md read as data (pure: no processes): its commands, and the results it documents.

* :func:`commands` lists every command the runbook gives: each line of its ```` ```bash ````
  blocks (continuations joined, comments dropped) and each inline code span that starts like a
  command line (``curl``, ``docker``, ``redis-cli``, ``python -m``, …; wrapped lines joined).
* :func:`localize` turns a production command into its local-stack form (the runbook's "Local
  equivalents"): ``localhost:5000`` → the API's port, ``:5050`` → the calls service, ``:3300``
  → the gateway, nginx's ``localhost`` → its port, ``docker compose exec redis redis-cli`` →
  ``redis-cli -p <port>``, ``docker compose exec worker python`` → this interpreter.
* :func:`matches` compares a JSON answer with a documented one written with ``…``
  placeholders (``"instance":"…"``, ``"latency_ms":…``, ``{…}``, ``,…,``): the documented
  keys must be there with the documented values; a ``…`` (or ``<sha>``, ``N``) matches anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEGRADED", "DRAINING", "RUNBOOK", "Command", "commands", "documented_results", "documents", "localize",
    "local_result", "matches", "parse_documented",
]

RUNBOOK = Path(__file__).resolve().parents[2] / "docs/RUNBOOK.md"

# What starts a command line in prose (an inline span); the rest of the runbook's spans are
# names, keys and values.
_COMMAND = re.compile(
    r"^(curl |docker |redis-cli|python -m |\.venv/bin/python |\./scripts/|scripts/|pg_dump|pg_restore|sqlite3 |"
    r"openssl |git grep|kubectl |make |bash |tail |set -a|INTERNAL_SECRET=|API_PORT=|(GET|SET|LLEN|ZRANGE|SMEMBERS) \w+:)"
)
_FENCE = re.compile(r"^```(\w*)\s*$")
_SPAN = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Command:
    text: str
    where: str  # "block" (a ```bash block's line) or "inline"
    line: int  # 1-based line of the runbook it starts on


def commands(text: str) -> list[Command]:
    """Every command of the runbook, in order (a command given twice is listed twice)."""
    found: list[Command] = []
    prose: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        language, i = fence.group(1), i + 1
        pending, start = "", 0
        while i < len(lines) and not lines[i].startswith("```"):
            if language == "bash":
                line = re.sub(r"\s+#\s.*$", "", lines[i]).strip()
                if line and not line.startswith("#"):
                    start = start or i + 1
                    pending += line
                    if pending.endswith("\\"):
                        pending = pending[:-1].rstrip() + " "
                    else:
                        found.append(Command(pending, "block", start))
                        pending, start = "", 0
            i += 1
        i += 1  # the closing fence
    # Inline spans may wrap: join each paragraph (or list item) into one line first.
    paragraph: list[tuple[int, str]] = []
    for number, line in [*prose, (0, "")]:
        if line.strip() and not re.match(r"^\s*(- |\d+\. |\| |#)", line):
            paragraph.append((number, line.strip()))
            continue
        joined = " ".join(text for _, text in paragraph)
        for match in _SPAN.finditer(joined):
            if _COMMAND.match(match.group(1)):
                found.append(Command(match.group(1), "inline", paragraph[0][0]))
        paragraph = [(number, line.strip())] if line.strip() else []
    return sorted(found, key=lambda c: c.line)


def documented_results(text: str) -> list[str]:
    """Every JSON answer the runbook shows (a code span that is a whole object)."""
    prose = re.sub(r"^```.*?^```[ \t]*$", "", text, flags=re.M | re.S)  # fenced blocks hold no answers
    flat = re.sub(r"\s*\n\s*", " ", prose)
    return list(dict.fromkeys(m for m in _SPAN.findall(flat) if m.startswith('{"')))


# Answers the failure scenarios see (tests/runbook/test_failure_scenarios.py).
DEGRADED = '{"status":"degraded","shards":{"1":{"url":"http://baileys:3300","state":"unreachable","detail":"…"}}}'
DRAINING = '{"status":"draining",…,"active_calls":1,…}'


def local_result(doc: str, gateway_url: str) -> str:
    """A documented production answer as the local stack gives it: the gateway runs its fake
    driver and the API reaches it at its local URL."""
    return doc.replace('"driver":"baileys"', '"driver":"fake"').replace("http://baileys:3300", gateway_url)


def documents(text: str, snippet: str) -> bool:
    """True when the runbook says ``snippet`` (its line wrapping ignored)."""
    return re.sub(r"\s+", " ", snippet) in re.sub(r"\s+", " ", text)


@dataclass(frozen=True)
class LocalPorts:
    api: int
    calls: int
    gateway: int
    web: int
    redis: int
    python: str


def localize(command: str, ports: LocalPorts) -> str:
    """The local stack's form of ``command`` (the runbook's "Local equivalents")."""
    out = command
    out = re.sub(r"^docker compose exec redis redis-cli\b", f"redis-cli -p {ports.redis}", out)
    out = re.sub(r"^docker compose exec (worker|scheduler) python\b", ports.python, out)
    out = re.sub(r"^(\.venv/bin/)?python\b", ports.python, out)
    out = re.sub(r"^redis-cli\b(?! -p)", f"redis-cli -p {ports.redis}", out)
    out = re.sub(r"^(GET|SET|LLEN|ZRANGE|SMEMBERS) ", rf"redis-cli -p {ports.redis} \1 ", out)
    out = out.replace("localhost:5000", f"127.0.0.1:{ports.api}").replace("localhost:5050", f"127.0.0.1:{ports.calls}")
    out = out.replace("localhost:3300", f"127.0.0.1:{ports.gateway}").replace("localhost:8080", f"127.0.0.1:{ports.web}")
    out = out.replace("http://localhost/", f"http://127.0.0.1:{ports.web}/")
    return out


# --- documented JSON with placeholders --------------------------------------------------

ANY = "\x00any"  # stands for a documented "…" (any value)


def parse_documented(doc: str) -> Any:
    """A documented JSON answer (``…`` placeholders) as a pattern for :func:`matches`."""
    text = doc
    text = re.sub(r",\s*…\s*(?=[,}])", "", text)  # ",…," / ",…}": other keys
    text = re.sub(r"\{\s*…\s*\}", "{}", text)  # "{…}": any object
    text = re.sub(r'"(…|<[^">]+>)"', lambda _: json.dumps(ANY), text)  # "…", "<sha>": any string
    text = re.sub(r":\s*(…|N|<[^>]+>)(?=[,}])", lambda _: ":" + json.dumps(ANY), text)  # "latency_ms":…, "connected":N
    return json.loads(text)


def matches(actual: Any, pattern: Any, path: str = "$") -> list[str]:
    """Where ``actual`` differs from ``pattern`` (objects: the pattern's keys; [] when it matches)."""
    if pattern == ANY:
        return []
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        problems: list[str] = []
        for key, value in pattern.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += matches(actual[key], value, f"{path}.{key}")
        return problems
    if isinstance(pattern, list):
        if not isinstance(actual, list) or len(actual) != len(pattern):
            return [f"{path}: expected {pattern!r}, got {actual!r}"]
        return [p for a, b in zip(actual, pattern, strict=True) for p in matches(a, b, path + "[]")]
    if actual != pattern or type(actual) is not type(pattern):
        return [f"{path}: documented {pattern!r}, got {actual!r}"]
    return []
