"""The compose files as Docker Compose would see them, without Docker: read, interpolate, merge,
select by profile, then check what Compose itself does not (docs/ARCHITECTURE.md §14).

``load(files, env)`` follows the Compose specification for what our files use: YAML merge keys,
``${VAR}``/``${VAR:-default}``/``${VAR-default}``/``${VAR:?error}``/``${VAR?error}``/``$$``
interpolation, and the override rules of a second ``-f`` file (mappings merged key by key,
``command``/``entrypoint``/``healthcheck.test`` replaced, other sequences appended without
duplicates). ``problems(model, profiles, scale)`` lists everything wrong with one
``docker compose … --profile … up --scale …`` command, as sentences naming the service.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]

# Keys whose sequence an override file replaces instead of extending (Compose's merge rules).
REPLACED = {"command", "entrypoint", "test"}

_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class InterpolationError(ValueError):
    """A ``${VAR:?message}`` whose variable is unset (Compose stops with the message)."""


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Substitute variables in every string of ``value`` as Compose does."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg = match["op"], match["arg"] or ""
        present = name in env
        usable = present and (env[name] != "" or not (op or "").startswith(":"))
        if op in (":-", "-"):
            return env[name] if usable else arg
        if op in (":?", "?"):
            if not usable:
                raise InterpolationError(f"{name}: {arg or 'required'}")
            return env[name]
        if op in (":+", "+"):
            return arg if usable else ""
        return env.get(name, "")

    return _VAR.sub(one, value)


def merge(base: Any, override: Any, key: str = "") -> Any:
    """Compose's override of ``base`` by ``override`` (a second ``-f`` file)."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = merge(base[k], v, k) if k in base else v
        return out
    if isinstance(base, list) and isinstance(override, list) and key not in REPLACED:
        return base + [item for item in override if item not in base]
    return override


def read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a mapping")
    return data


def load(files: list[str], env: dict[str, str]) -> dict[str, Any]:
    """The merged, interpolated model of ``docker compose -f A -f B``; ``x-`` keys dropped."""
    model: dict[str, Any] = {}
    for name in files:
        data = interpolate(read(ROOT / name), env)
        model = merge(model, {k: v for k, v in data.items() if not k.startswith("x-")})
    return model


def env_file(path: Path) -> dict[str, str]:
    """A ``.env`` file as Compose reads it (KEY=VALUE lines; # comments)."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Command:
    """One operator command: ``docker compose -f … [--profile …] up -d [--scale s=n]``."""

    files: tuple[str, ...]
    profiles: tuple[str, ...] = ()
    scale: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, line: str) -> Command:
        words = shlex.split(line)
        if words[:2] != ["docker", "compose"] or "up" not in words:
            raise ValueError(f"not a `docker compose … up` command: {line}")
        files: list[str] = []
        profiles: list[str] = []
        scale: dict[str, int] = {}
        it = iter(words[2:])
        for word in it:
            if word == "-f":
                files.append(next(it))
            elif word == "--profile":
                profiles.append(next(it))
            elif word == "--scale":
                service, _, count = next(it).partition("=")
                scale[service] = int(count)
            elif word not in ("up", "-d"):
                raise ValueError(f"{line}: unexpected {word!r}")
        return cls(tuple(files or ["docker-compose.yml"]), tuple(profiles), scale)

    @property
    def production(self) -> bool:
        return "docker-compose.prod.yml" in self.files


def active(model: dict[str, Any], profiles: tuple[str, ...]) -> dict[str, Any]:
    """The services ``up`` starts: those without profiles, and those of an enabled profile."""
    return {
        name: svc
        for name, svc in model["services"].items()
        if not svc.get("profiles") or set(svc["profiles"]) & set(profiles)
    }


def depends_on(svc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return dict(deps)


def _published(port: str) -> tuple[str, int, int]:
    """``"127.0.0.1:5000:5000"`` → (host ip, host port, container port)."""
    parts = str(port).split(":")
    if len(parts) == 2:
        return "", int(parts[0]), int(parts[1])
    return parts[0], int(parts[1]), int(parts[2])


def problems(model: dict[str, Any], command: Command) -> list[str]:
    """Everything that would break this command, beyond what the compose-spec schema checks."""
    out: list[str] = []
    services = active(model, command.profiles)
    for name, svc in services.items():
        for dep, spec in depends_on(svc).items():
            if dep not in model["services"]:
                out.append(f"{name}: depends_on {dep}, which is not a service")
            elif dep not in services and spec.get("required", True):
                out.append(f"{name}: depends_on {dep}, which this command does not start")
            elif dep in services and spec.get("condition") == "service_healthy" and "healthcheck" not in services[dep]:
                out.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
        for target in (svc.get("networks") or []):
            if target not in model.get("networks", {}):
                out.append(f"{name}: network {target} is not declared")
        for volume in svc.get("volumes") or []:
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/", "$")) and source not in (model.get("volumes") or {}):
                out.append(f"{name}: volume {source} is not declared")
    for name, count in command.scale.items():
        svc = services.get(name)
        if svc is None:
            out.append(f"--scale {name}={count}: {name} is not started by this command")
        elif count > 1:
            if "container_name" in svc:
                out.append(f"--scale {name}={count}: {name} has a fixed container_name")
            fixed = [p for p in svc.get("ports") or [] if _published(p)[1]]
            if fixed:
                out.append(f"--scale {name}={count}: {name} publishes fixed host ports {fixed}")
    seen: dict[tuple[str, int], str] = {}
    for name, svc in services.items():
        for port in svc.get("ports") or []:
            ip, host, _ = _published(port)
            if (ip, host) in seen:
                out.append(f"{name}: host port {host} already published by {seen[(ip, host)]}")
            seen[(ip, host)] = name
    return out


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def python_module(argv: list[str]) -> str | None:
    """``python -m pkg.mod …`` → ``pkg.mod``."""
    if len(argv) >= 3 and argv[0] == "python" and argv[1] == "-m":
        return argv[2]
    return None


def module_exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()
