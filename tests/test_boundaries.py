"""No service imports another service's internals; ``contracts`` imports nothing of ours.

Walks every module of ``callengine``, ``api``, ``jobs`` and ``contracts`` with ``ast`` (top-level,
function-local and ``TYPE_CHECKING`` imports alike) and fails on any edge between packages that
is not in ``ALLOWED``. The calls service reaches the others only through data (Redis keys, the
call setup, the call record, jobs enqueued by name), all defined in ``contracts``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__: list[str] = []

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "callengine", "contracts", "jobs")

# importer package -> modules of other packages it may import (a module or anything below it).
ALLOWED: dict[str, tuple[str, ...]] = {
    "callengine": ("contracts",),
    # the API hands work to the worker only through the jobs facade, and reads and repairs the
    # jobs' state (dead letters, workers, scheduler leader) only through the operators' facade
    # jobs.admin (which imports nothing of the API)
    "api": ("contracts", "jobs.enqueue", "jobs.admin"),
    # the jobs and the API share the data layer (and its settings: the database URL)
    "jobs": (
        "contracts", "api.db", "api.settings", "api.crypto",
        "api.services.call_records", "api.services.sessions", "api.services.attachments",
        "api.services.webhooks",
        # the broadcast jobs send through the gateway client and skip opted-out phones
        "api.services.whatsapp_gateway", "api.services.whatsapp_optout", "api.services.whatsapp_events",
    ),
    "contracts": (),
}
# What may not load in contracts: it must stay importable by every service without their stacks.
CONTRACTS_FORBIDDEN = (
    "trio", "trio_websocket", "redis", "rq", "quart", "quart_trio", "hypercorn", "sqlalchemy",
    "alembic", "twilio", "pydantic",
)


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield node.lineno, sub if _is_module(sub) else target


def _allowed(importer: str, target: str) -> bool:
    top = target.split(".")[0]
    if top not in PACKAGES or top == importer:
        return True
    return any(target == ok or target.startswith(ok + ".") for ok in ALLOWED[importer])


def cross_service_edges() -> list[str]:
    bad = []
    for package in PACKAGES:
        for module, path in _modules(package):
            for line, target in imports_of(module, path):
                if not _allowed(package, target):
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {target}")
    return bad


def test_no_module_imports_another_services_internals() -> None:
    assert cross_service_edges() == []


@pytest.mark.parametrize(("module", "path"), list(_modules("contracts")))
def test_contracts_stay_pure(module: str, path: Path) -> None:
    heavy = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for line, target in imports_of(module, path)
        if target.split(".")[0] in CONTRACTS_FORBIDDEN
    ]
    assert heavy == []


def test_jobs_admin_imports_nothing_of_the_api() -> None:
    """The operators' facade is imported by the API: an API import in it (or in what it imports
    of jobs) would make the API depend on itself through the jobs."""
    seen: set[str] = set()
    todo = ["jobs.admin"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        base = ROOT.joinpath(*module.split("."))
        path = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        for _, target in imports_of(module, path):
            assert target.split(".")[0] != "api", f"{module} imports {target}"
            if target.split(".")[0] == "jobs" and _is_module(target):
                todo.append(target)
    assert "jobs.deadletter" in seen and "jobs.leader" in seen


def test_the_walk_sees_function_local_relative_and_type_checking_imports(tmp_path: Path) -> None:
    """The checker itself: an import hidden in a function or a TYPE_CHECKING block counts."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from api.db import models\n"
        "def f():\n    import jobs.calls\n    from . import keys\n"
    )
    path = tmp_path / "mod.py"
    path.write_text(source)
    found = {target for _, target in imports_of("contracts.mod", path)}
    assert {"api.db.models", "jobs.calls", "contracts.keys"} <= found
    assert not _allowed("callengine", "jobs.calls") and not _allowed("api", "jobs.calls")
    assert _allowed("api", "jobs.enqueue") and _allowed("api", "jobs.admin") and _allowed("jobs", "api.db.models")
    assert not _allowed("api", "jobs.deadletter") and not _allowed("api", "jobs.leader")
    assert not _allowed("contracts", "callengine.settings")
