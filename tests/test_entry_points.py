"""Every command-line entry point answers ``--help`` with its usage and refuses unknown options.

Each runs in a subprocess, the way a user types it: ``--help`` exits 0 with the usage on stdout
and starts nothing (no server bound, no database file created), an unknown option exits 2 with
argparse's message. The environment points Redis and the database at places that would show
any side effect.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[1]

# (command after the interpreter, must its help name the environment variables it reads?)
ENTRY_POINTS: list[tuple[list[str], bool]] = [
    (["-m", "callengine"], True),
    (["-m", "api"], True),
    (["-m", "api.migrate"], True),
    (["-m", "api.seed"], True),
    (["-m", "api.whatsapp_move"], True),
    (["-m", "jobs.scheduler"], True),
    (["-m", "callengine.loadtest"], False),
    (["-m", "callengine.brains.openai_realtime.clips"], True),
    (["-m", "bench"], True),
    (["-m", "bench.api_bench"], True),
    (["-m", "bench.events_bench"], True),
    (["-m", "bench.overload_bench"], True),
    (["-m", "bench.asr_accuracy"], True),
    (["-m", "bench.intent_accuracy"], True),
    (["-m", "callengine.brains.receptionist.understanding.lm"], True),
    (["-m", "bench.worker_bench"], True),
    (["-m", "jobs.worker"], True),
    (["-m", "jobs.health"], True),
    (["-m", "jobs"], True),
    (["scripts/make_fixtures.py"], True),
    (["scripts/make_receptionist_clips.py"], True),
    (["scripts/make_receptionist_fixtures.py"], True),
    (["scripts/show_calls.py"], True),
]

# Variables the servers' help must name (each is read by that service's settings.py).
SERVER_VARS = {
    "callengine": ("CALLS_HOST", "CALLS_PORT", "REDIS_URL", "MAX_CONCURRENT_CALLS", "CALLS_BRAIN"),
    "api": ("API_HOST", "API_PORT", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"),
    "api.migrate": ("DATABASE_URL",),
    "api.seed": ("DATABASE_URL", "SEED_OWNER_PASSWORD", "SEED_ADMIN_PASSWORD"),
    "api.whatsapp_move": ("DATABASE_URL", "BAILEYS_NUM_SHARDS", "INTERNAL_SECRET"),
    "jobs.scheduler": ("REDIS_URL", "SCHEDULER_ID", "SCHEDULER_LOCK_TTL_SECONDS"),
    "jobs.worker": ("RQ_QUEUES", "REDIS_URL", "LOG_LEVEL", "WORKER_MAINTENANCE_INTERVAL_SECONDS"),
    "jobs.health": ("REDIS_URL",),
    "jobs": ("REDIS_URL",),
}

# Entry points with required positionals get them, so that only the unknown option is wrong.
REQUIRED_POSITIONALS = {
    "scripts/show_calls.py": ("http://127.0.0.1:9", "owner@example.com", "password"),
    "jobs": ("failed", "list"),
    "api.whatsapp_move": ("1", "2"),
}


def _ids() -> list[str]:
    return [" ".join(cmd) for cmd, _ in ENTRY_POINTS]


def _run(cmd: list[str], *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'entry.db'}",
        "REDIS_URL": "redis://127.0.0.1:9/0",  # the discard port: nothing answers there
        "API_HOST": "127.0.0.1",
        "CALLS_HOST": "127.0.0.1",
        "API_PORT": "0",
        "CALLS_PORT": "0",
    }
    return subprocess.run(
        [sys.executable, *cmd, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(("cmd", "names_env"), ENTRY_POINTS, ids=_ids())
def test_help_prints_usage_and_starts_nothing(cmd: list[str], names_env: bool, tmp_path: Path) -> None:
    done = _run(cmd, "--help", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: "), done.stdout
    assert "Traceback" not in done.stderr
    if names_env:
        assert "environment variable" in " ".join(done.stdout.split()).lower(), done.stdout
    for name in SERVER_VARS.get(cmd[-1], ()):
        assert name in done.stdout, f"{' '.join(cmd)} --help does not name {name}"
    assert not (tmp_path / "entry.db").exists(), "--help touched the database"


@pytest.mark.parametrize(("cmd", "names_env"), ENTRY_POINTS, ids=_ids())
def test_unknown_option_exits_2_with_a_message(cmd: list[str], names_env: bool, tmp_path: Path) -> None:
    positionals = REQUIRED_POSITIONALS.get(cmd[-1], ())
    done = _run(cmd, *positionals, "--no-such-option", tmp_path=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "usage: " in done.stderr
    assert "unrecognized arguments: --no-such-option" in done.stderr, done.stderr
    assert not (tmp_path / "entry.db").exists()
