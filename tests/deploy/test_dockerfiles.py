"""The images' Dockerfiles: hadolint (.hadolint.yaml), non-root, pinned bases, and every file
they COPY from the build context (the repository root) exists."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = ("Dockerfile", "baileys/Dockerfile", "frontend/Dockerfile", "nginx/Dockerfile")
HADOLINT = Path(sys.executable).with_name("hadolint")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_finds_nothing(name: str) -> None:
    run = subprocess.run(
        [str(HADOLINT), "--config", str(ROOT / ".hadolint.yaml"), "--no-color", name],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install flask\n")
    run = subprocess.run([str(HADOLINT), "--config", str(ROOT / ".hadolint.yaml"), str(bad)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode != 0
    assert "DL3007" in run.stdout  # :latest


@pytest.mark.parametrize("name", DOCKERFILES)
def test_images_run_as_a_numeric_non_root_user_on_pinned_bases(name: str) -> None:
    text = (ROOT / name).read_text()
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users, f"{name}: no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"{name}: the last USER is {users[-1]}"
    for base in re.findall(r"^FROM (\S+)", text, re.M):
        tag = base.partition(":")[2]
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?", tag), f"{name}: {base} is not pinned to a version"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_every_copied_path_exists_in_the_build_context(name: str) -> None:
    text = (ROOT / name).read_text()
    missing = []
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        words = [w for w in line.split() if not w.startswith("--")]
        for source in words[:-1]:
            if not (ROOT / source).exists():
                missing.append(source)
    pending = [m for m in missing if m.startswith(("frontend/", "nginx/"))]
    if pending and pending == missing:
        pytest.skip(f"{name}: {pending} come with the frontend and nginx branches")
    assert missing == []


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "var", "**/node_modules", ".env"):
        assert entry in ignored


def fake_docker(tmp_path: Path) -> Path:
    """A `docker` on PATH that keeps networks as files (there is no engine on this machine)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f'dir="{tmp_path}/networks"; mkdir -p "$dir"; echo "$*" >> "{tmp_path}/calls"\n'
        'case "$1 $2" in\n'
        '  "network inspect") [ -e "$dir/$3" ];;\n'
        '  "network create") name=$(eval echo \\${$#}); [ ! -e "$dir/$name" ] && touch "$dir/$name";;\n'
        "  *) exit 2;;\n"
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def test_ensure_docker_network_creates_the_network_once(tmp_path: Path) -> None:
    bin_dir = fake_docker(tmp_path)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PROSAAS_NETWORK": "prosaas-test"}
    for expected in ("created network prosaas-test", "network prosaas-test exists"):
        run = subprocess.run([str(ROOT / "scripts" / "ensure_docker_network.sh")], env=env,
                             capture_output=True, text=True, timeout=30, check=False)
        assert run.returncode == 0, run.stderr
        assert expected in run.stdout
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls.count("network create --driver bridge prosaas-test") == 1
    env.pop("PROSAAS_NETWORK")
    subprocess.run([str(ROOT / "scripts" / "ensure_docker_network.sh")], env=env, check=True, capture_output=True, timeout=30)
    assert (tmp_path / "networks" / "prosaas").exists()


def _version(text: str) -> tuple[int, ...]:
    parts = [p for p in text.strip().lstrip("v=").split(".") if p not in ("x", "X", "*", "")]
    return tuple(int(p) for p in parts)


def _satisfies(version: tuple[int, int, int], spec: str) -> bool:
    """npm's engines ranges as the lockfiles spell them (`^a.b.c`, `>=a`, `a || >=b`, `>= 10.x`)."""
    for alternative in spec.split("||"):
        if alternative.strip() in ("", "*", "x"):
            return True
        words = re.findall(r"(\^|~|>=|<=|>|<|=)?\s*v?(\d+(?:\.(?:\d+|x))*(?:\.(?:\d+|x))?)", alternative)
        ok = bool(words)
        for op, raw in words:
            want = _version(raw)
            head = version[: len(want)]
            if op == "^":
                ok &= version >= want + (0,) * (3 - len(want)) and version[0] == want[0]
            elif op == "~":
                ok &= version >= want + (0,) * (3 - len(want)) and version[:2] == (want + (0,))[:2]
            elif op == ">=":
                ok &= head >= want
            elif op == ">":
                ok &= head > want
            elif op == "<=":
                ok &= head <= want
            elif op == "<":
                ok &= head < want
            else:
                ok &= head == want
        if ok:
            return True
    return False


def test_engine_ranges_are_read_like_npm() -> None:
    assert _satisfies((20, 20, 2), "^20.19.0 || >=22.12.0")
    assert not _satisfies((20, 18, 1), "^20.19.0 || >=22.12.0")
    assert _satisfies((20, 20, 2), ">= 10.x") and _satisfies((20, 20, 2), "20 || >=22")
    assert not _satisfies((18, 0, 0), ">=20") and _satisfies((20, 9, 0), "^20.9.0")
    assert _satisfies((20, 20, 2), "*") and _satisfies((20, 20, 2), ">=v12.22.7")


@pytest.mark.parametrize(("dockerfile", "lockfile", "with_dev"), [
    ("baileys/Dockerfile", "baileys/package-lock.json", False),  # npm ci --omit=dev
    ("frontend/Dockerfile", "frontend/package-lock.json", True),  # the build needs the dev tools
])
def test_node_image_satisfies_every_locked_package_engine(dockerfile: str, lockfile: str, with_dev: bool) -> None:
    if not (ROOT / lockfile).is_file():
        pytest.skip(f"{lockfile} comes with its branch")
    base = re.search(r"^FROM node:(\d+)\.(\d+)\.(\d+)", (ROOT / dockerfile).read_text(), re.M)
    assert base, f"{dockerfile}: no FROM node:X.Y.Z"
    node = (int(base[1]), int(base[2]), int(base[3]))
    packages = json.loads((ROOT / lockfile).read_text())["packages"]
    refused = {
        name: meta["engines"]["node"]
        for name, meta in packages.items()
        if isinstance(meta.get("engines"), dict) and "node" in meta["engines"]
        and (with_dev or not meta.get("dev")) and not meta.get("optional")
        and not _satisfies(node, meta["engines"]["node"])
    }
    assert refused == {}, f"node {'.'.join(map(str, node))} is outside these engines"
