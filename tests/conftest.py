"""Shared fixtures: engine settings, a running calls server, and real Redis instances.

The machine's Redis (127.0.0.1:6379) is used through a dedicated database number that is
flushed per test. Tests that stop Redis start their own private ``redis-server`` on a free
port instead, never touching the shared one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
import trio

from callengine.admission import Admission
from callengine.brains import brain_factory
from callengine.brains.setup_store import RedisCallSetup
from callengine.server.serve import CallsServer, EngineDeps, serve_calls
from callengine.settings import Settings
from callengine.stats import EngineStats
from tests.fakes.memory_reporter import InMemoryReporter

SHARED_REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        brain="echo",  # the engine's tests need a brain whose replies they can predict
        host="127.0.0.1",
        port=0,
        max_concurrent_calls=10,
        drain_timeout_seconds=5,
        redis_url=SHARED_REDIS,
        spool_dir=tmp_path / "spool",
        recordings_dir=tmp_path / "recordings",
        instance_id="test-instance",
    )


@pytest.fixture
def shared_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(SHARED_REDIS)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


async def start_engine(
    nursery: trio.Nursery,
    settings: Settings,
    reporter: Any | None = None,
    admission: Admission | None = None,
    brains: Any | None = None,
) -> CallsServer:
    admission = admission or Admission(settings.max_concurrent_calls, settings.max_pending_starts)
    deps = EngineDeps(
        admission=admission,
        reporter=reporter or InMemoryReporter(),
        stats=EngineStats(),
        brain_factory=brains or brain_factory(settings, RedisCallSetup(settings.redis_url)),
        version="test",
    )
    server: CallsServer = await nursery.start(serve_calls, settings, deps)
    return server


@pytest.fixture
async def engine(nursery: trio.Nursery, settings: Settings) -> AsyncIterator[CallsServer]:
    yield await start_engine(nursery, settings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> bool:
    """True once 127.0.0.1:``port`` accepts a connection; False on timeout or once ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class PrivateRedis:
    """A redis-server of our own on a free port, which a test may stop and start."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not on PATH (the README's setup installs it)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_port(self.port, self.proc, timeout=10):
            raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def with_redis(settings: Settings, url: str) -> Settings:
    return replace(settings, redis_url=url)
