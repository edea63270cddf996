"""Is the environment a deployment gives a service one that service starts with?

Each role is checked by the settings code the service itself runs at start (``api/settings.py``,
``callengine/settings.py``, ``jobs/worker_settings.py``, ``jobs/scheduler.py``,
``baileys/src/settings.js``), so a missing secret in production, an invalid value or a bad
queue name is found here the way the container would find it. On top of that, the variables
whose defaults only suit a checkout (``127.0.0.1`` Redis, a SQLite file or directories under
``var/``) must be set explicitly in a container. Shared by the compose and Kubernetes tests.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from api.errors import SettingsError as ApiSettingsError
from api.settings import Settings as ApiSettings
from callengine.errors import SettingsError as CallsSettingsError
from callengine.settings import Settings as CallsSettings
from jobs.scheduler import SchedulerSettings
from jobs.scheduler import SettingsError as SchedulerSettingsError
from jobs.worker_settings import SettingsError as WorkerSettingsError
from jobs.worker_settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]

# What each service's command is (the first words of its command line).
ROLES: dict[tuple[str, ...], str] = {
    ("python", "-m", "api"): "api",
    ("python", "-m", "api.migrate"): "migrate",
    ("python", "-m", "callengine"): "calls",
    ("python", "-m", "jobs.worker"): "worker",
    ("python", "-m", "jobs.scheduler"): "scheduler",
    ("node", "src/server.js"): "baileys",
}

# Defaults that fit a developer's checkout, not a container: each role must set these.
MUST_SET: dict[str, tuple[str, ...]] = {
    "api": ("DATABASE_URL", "REDIS_URL", "RECORDINGS_DIR", "MEDIA_DIR", "INTERNAL_SECRET"),
    "migrate": ("DATABASE_URL",),
    # the worker runs the API's data code (post-call, retention, thumbnails): same database/dirs
    "worker": ("DATABASE_URL", "REDIS_URL", "RECORDINGS_DIR", "MEDIA_DIR", "RQ_QUEUES"),
    "scheduler": ("REDIS_URL", "DATABASE_URL"),
    "calls": ("REDIS_URL", "CALLS_SPOOL_DIR", "RECORDINGS_DIR", "DRAIN_TIMEOUT_SECONDS", "INTERNAL_SECRET"),
    "baileys": ("BAILEYS_DATA_DIR", "BAILEYS_SHARD_ID", "API_URL", "INTERNAL_SECRET"),
}

# The directories each role writes or reads, which must be on a volume (the data outlives the
# container; the API and the workers share media and recordings with the calls service).
DIRECTORIES: dict[str, tuple[str, ...]] = {
    "api": ("RECORDINGS_DIR", "MEDIA_DIR"),
    "worker": ("RECORDINGS_DIR", "MEDIA_DIR"),
    "calls": ("RECORDINGS_DIR", "CALLS_SPOOL_DIR"),
    "baileys": ("BAILEYS_DATA_DIR",),
    "scheduler": (),
    "migrate": (),
}


def role(argv: list[str]) -> str | None:
    for prefix, name in ROLES.items():
        if tuple(argv[: len(prefix)]) == prefix:
            return name
    return None


def _python(parse: Callable[[dict[str, str]], object], errors: tuple[type[Exception], ...], env: dict[str, str]) -> list[str]:
    try:
        parse(env)
    except errors as exc:
        return [str(p) for p in getattr(exc, "problems", [exc])]
    return []


def _baileys(env: dict[str, str]) -> list[str]:
    script = (
        "import { readSettings } from './baileys/src/settings.js';"
        "try { readSettings(JSON.parse(process.argv[1])); }"
        "catch (e) { console.log(JSON.stringify(e.problems ?? [String(e)])); process.exit(3); }"
    )
    run = subprocess.run(
        ["node", "--input-type=module", "-e", script, json.dumps(env)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    if run.returncode == 3:
        return [str(p) for p in json.loads(run.stdout)]
    if run.returncode != 0:
        raise RuntimeError(f"node could not read baileys/src/settings.js: {run.stderr}")
    return []


def settings_problems(name: str, role_name: str, env: dict[str, str]) -> list[str]:
    """What the service's own settings code refuses in ``env``, plus unset container-only vars."""
    out = [f"{name}: {var} is not set (its default only suits a checkout)"
           for var in MUST_SET[role_name] if not env.get(var)]
    found: list[str] = []
    if role_name in ("api", "migrate", "worker", "scheduler"):
        # the jobs read the API's settings too (docs/ARCHITECTURE.md §8)
        found += _python(ApiSettings.from_env, (ApiSettingsError,), env)
    if role_name == "worker":
        found += _python(WorkerSettings.from_env, (WorkerSettingsError,), env)
    if role_name == "scheduler":
        found += _python(SchedulerSettings.from_env, (SchedulerSettingsError,), env)
    if role_name == "calls":
        found += _python(CallsSettings.from_env, (CallsSettingsError,), env)
    if role_name == "baileys":
        found += _baileys(env)
    return out + [f"{name}: {problem}" for problem in found]
