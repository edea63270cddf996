"""``python -m callengine`` as the operator runs it: start, health, SIGTERM drain, exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import pytest
import trio
from trio_websocket import ConnectionClosed

from callengine.events import CloseCode
from tests.callengine.server.test_serve import raw_upgrade
from tests.conftest import SHARED_REDIS, free_port
from tests.fakes.twilio_ws import SILENCE_FRAME, open_call

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def calls_service(tmp_path: Path, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "callengine"],
        cwd=ROOT,
        env={
            **os.environ,
            "CALLS_HOST": "127.0.0.1",
            "CALLS_PORT": str(port),
            "REDIS_URL": SHARED_REDIS,
            "CALLS_SPOOL_DIR": str(tmp_path / "spool"),
            "CALLS_INSTANCE_ID": "subprocess-test",
            "CALLS_BRAIN": "echo",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


async def health(port: int) -> tuple[int, dict]:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := await stream.receive_some():
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def wait_up(port: int) -> None:
    with trio.fail_after(20):
        while True:
            try:
                await health(port)
                return
            except OSError:
                await trio.sleep(0.05)


async def wait_draining(port: int) -> None:
    with trio.fail_after(5):
        while (await health(port))[1]["status"] != "draining":
            await trio.sleep(0.02)


async def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int:
    with trio.fail_after(timeout):
        while proc.poll() is None:
            await trio.sleep(0.05)
    return proc.returncode


@pytest.mark.slow
async def test_sigterm_drains_live_calls_then_exits_cleanly(tmp_path, shared_redis):
    with calls_service(tmp_path, DRAIN_TIMEOUT_SECONDS="1.5") as (proc, port):
        await wait_up(port)
        async with open_call(port) as call:
            await call.connected()
            await call.start()
            await call.frames(SILENCE_FRAME, 3)
            proc.send_signal(signal.SIGTERM)
            await wait_draining(port)
            status, doc = await health(port)
            assert status == 503 and doc["active_calls"] == 1
            await call.frames(SILENCE_FRAME, 20)  # the live call is still served
            with pytest.raises(ConnectionClosed) as closed:
                with trio.fail_after(10):
                    while True:
                        await call.ws.get_message()
            assert closed.value.reason.code == CloseCode.GOING_AWAY
        assert await wait_exit(proc, 15) == 0
        assert shared_redis.llen("rq:queue:high") == 1  # the drained call was finalized
        assert not shared_redis.exists("calls:instance:subprocess-test")


@pytest.mark.slow
async def test_second_sigterm_ends_calls_at_once(tmp_path, shared_redis):
    with calls_service(tmp_path, DRAIN_TIMEOUT_SECONDS="300") as (proc, port):
        await wait_up(port)
        async with open_call(port) as call:
            await call.connected()
            await call.start()
            proc.send_signal(signal.SIGTERM)
            await wait_draining(port)
            proc.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                with trio.fail_after(5):
                    while True:
                        await call.ws.get_message()
            assert closed.value.reason.code == CloseCode.GOING_AWAY
        assert await wait_exit(proc, 15) == 0


@pytest.mark.slow
async def test_the_entry_point_admits_max_concurrent_calls_and_no_more(tmp_path, shared_redis):
    # Other tests build Admission themselves; this one runs what the operator runs.
    with calls_service(tmp_path, MAX_CONCURRENT_CALLS="2", CALLS_MAX_PENDING_STARTS="3") as (
        proc,
        port,
    ):
        await wait_up(port)
        status, doc = await health(port)
        assert (status, doc["capacity"], doc["max_pending_starts"]) == (200, 2, 3)
        async with AsyncExitStack() as stack:
            for i in range(2):
                call = await stack.enter_async_context(
                    open_call(port, call_sid=f"CA{i:032d}", stream_sid=f"MZ{i:032d}")
                )
                await call.connected()
                await call.start()
                await call.frames(SILENCE_FRAME, 2)
            assert (await health(port))[1]["active_calls"] == 2
            status, headers, body = await raw_upgrade(port)
            assert (status, headers["Retry-After"]) == (503, "1")
            assert json.loads(body)["error"]["code"] == "full"
            doc = (await health(port))[1]
            assert (doc["active_calls"], doc["rejected"]["full"]) == (2, 1)


@pytest.mark.slow
async def test_an_upgrade_during_a_real_sigterm_drain_gets_503(tmp_path, shared_redis):
    with calls_service(tmp_path, DRAIN_TIMEOUT_SECONDS="5") as (proc, port):
        await wait_up(port)
        async with open_call(port) as call:
            await call.connected()
            await call.start()
            await call.frames(SILENCE_FRAME, 3)
            proc.send_signal(signal.SIGTERM)
            await wait_draining(port)
            status, headers, body = await raw_upgrade(port)
            assert (status, headers["Retry-After"]) == (503, "1")
            assert json.loads(body)["error"]["code"] == "draining"
            assert (await health(port))[1]["rejected"]["draining"] == 1
            await call.frames(SILENCE_FRAME, 3)  # the live call is still served
            await call.stop()
        assert await wait_exit(proc, 15) == 0


def test_invalid_settings_exit_2_naming_every_problem(tmp_path):
    with calls_service(tmp_path, CALLS_PORT="x", MAX_CONCURRENT_CALLS="-1") as (proc, _):
        assert proc.wait(timeout=20) == 2
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
    assert "CALLS_PORT" in out and "MAX_CONCURRENT_CALLS" in out
