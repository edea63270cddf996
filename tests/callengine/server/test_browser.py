"""``/ws/browser`` on a real calls server over real sockets: the access token is checked before
the upgrade (401/403 naming the reason), then the browser speaks Twilio Media Streams through
the same admission and actor as a phone call, and its record is marked ``test``."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
import trio

from callengine.admission import Admission
from callengine.events import CloseCode
from callengine.settings import Secret, Settings
from contracts.browser_access import mint_access_token
from contracts.call_record import read_record
from contracts.call_token import mint_call_token
from tests.callengine.server.test_serve import expect_close
from tests.conftest import start_engine
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.twilio_ws import SILENCE_FRAME, SPEECH_FRAME, open_call

SECRET = "internal"
SID = "CA" + "b0" * 16
OTHER_SID = "CA" + "b1" * 16


@pytest.fixture
def browser_settings(settings: Settings) -> Settings:
    # Signatures are checked on /ws/twilio (an auth token is set), as in production.
    return replace(
        settings,
        twilio_auth_token=Secret("tw-secret"),
        public_base_url="https://calls.example.com",
        internal_secret=Secret(SECRET),
    )


def access(sid: str = SID, business: str = "7", ttl: int = 60, secret: str = SECRET) -> str:
    return mint_access_token(secret, sid, business, int(time.time()) + ttl)


def params(sid: str = SID, business: str = "7") -> dict[str, str]:
    return {"business_id": business, "token": mint_call_token(SECRET, sid), "direction": "inbound",
            "from": "+15550100007", "to": "+15550100007", "test": "1"}


async def upgrade(port: int, target: str) -> tuple[int, dict[str, object], str]:
    """A WebSocket upgrade by hand; the refusal's status, JSON body and raw head."""
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: Upgrade", "Upgrade: websocket",
             "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        with trio.fail_after(5):
            while chunk := await stream.receive_some():
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body else {}, head.decode()


async def test_a_valid_token_plays_a_call_whose_record_is_a_test_call(nursery, browser_settings):
    reporter = InMemoryReporter()
    server = await start_engine(nursery, browser_settings, reporter)
    async with open_call(server.port, call_sid=SID, path=f"/ws/browser?access={access()}") as call:
        await call.connected()
        await call.start(params())
        await call.frames(SILENCE_FRAME, 10)
        await call.frames(SPEECH_FRAME, 25)
        await call.frames(SILENCE_FRAME, 40)
        seen = await call.receive_until("mark")  # the echo brain answers like any call
        assert any(m["event"] == "media" for m in seen)
        await call.stop()
        await expect_close(call, CloseCode.NORMAL)
    with trio.fail_after(5):
        await reporter.finalized.wait()
    record, problems = read_record(reporter.records[0])
    assert problems == () and record.test is True
    assert (record.call_sid, record.business_id, record.end_reason) == (SID, "7", "stopped")


@pytest.mark.parametrize(
    ("target", "status", "code"),
    [
        ("/ws/browser", 401, "missing"),
        ("/ws/browser?access=", 401, "missing"),
        ("/ws/browser?access=v1.nope", 403, "malformed"),
        ("/ws/browser?access={expired}", 403, "expired"),
        ("/ws/browser?access={forged}", 403, "bad_signature"),
        ("/ws/browser?access={good}&access={good}", 403, "malformed"),
    ],
)
async def test_bad_or_missing_tokens_are_refused_before_the_upgrade(nursery, browser_settings, target, status, code):
    server = await start_engine(nursery, browser_settings)
    target = target.format(expired=access(ttl=-1), forged=access(secret="another"), good=access())
    got, body, head = await upgrade(server.port, target)
    assert (got, body["error"]["code"]) == (status, code), body  # type: ignore[index]
    assert "101" not in head.split("\r\n")[0]
    assert server.health()["rejected"]["token"] == 1
    assert server.health()["active_calls"] == 0


async def test_another_calls_token_cannot_open_this_call(nursery, browser_settings):
    reporter = InMemoryReporter()
    server = await start_engine(nursery, browser_settings, reporter)
    # The access token grants OTHER_SID; the start (with a valid stream token) is for SID.
    async with open_call(server.port, call_sid=SID, path=f"/ws/browser?access={access(OTHER_SID)}") as call:
        await call.connected()
        await call.start(params())
        reason = await expect_close(call, CloseCode.POLICY_VIOLATION)
    assert reason == "the access token is for another call"
    assert server.health()["rejected"]["token"] == 1 and reporter.records == []


async def test_the_token_binds_the_business_too(nursery, browser_settings):
    server = await start_engine(nursery, browser_settings)
    async with open_call(server.port, call_sid=SID, path=f"/ws/browser?access={access(business='8')}") as call:
        await call.connected()
        await call.start(params(business="7"))
        await expect_close(call, CloseCode.POLICY_VIOLATION)


async def test_the_stream_token_is_still_checked_at_start(nursery, browser_settings):
    server = await start_engine(nursery, browser_settings)
    async with open_call(server.port, call_sid=SID, path=f"/ws/browser?access={access()}") as call:
        await call.connected()
        await call.start({**params(), "token": "0" * 64})
        assert await expect_close(call, CloseCode.POLICY_VIOLATION) == "invalid call token"


async def test_the_access_token_does_not_open_ws_twilio_without_a_signature(nursery, browser_settings):
    server = await start_engine(nursery, browser_settings)
    status, body, _ = await upgrade(server.port, f"/ws/twilio?access={access()}")
    assert status == 403 and "x-twilio-signature" in body["error"]["message"]  # type: ignore[index]
    assert server.health()["rejected"]["signature"] == 1


async def test_without_internal_secret_no_browser_call_is_accepted(nursery, settings):
    server = await start_engine(nursery, replace(settings, internal_secret=Secret("")))
    token = mint_access_token("anything", SID, "7", int(time.time()) + 60)
    status, body, _ = await upgrade(server.port, f"/ws/browser?access={token}")
    assert (status, body["error"]["code"]) == (403, "bad_signature")  # type: ignore[index]


async def test_a_full_service_refuses_a_browser_call_with_503(nursery, browser_settings):
    server = await start_engine(nursery, replace(browser_settings, max_concurrent_calls=1),
                                admission=Admission(1, 1))
    async with open_call(server.port, call_sid=SID, path=f"/ws/browser?access={access()}") as call:
        await call.connected()
        await call.start(params())
        await call.frames(SILENCE_FRAME, 3)
        status, body, head = await upgrade(server.port, f"/ws/browser?access={access(OTHER_SID)}")
        assert status == 503 and "Retry-After: 1" in head, body
        await call.stop()
        await expect_close(call, CloseCode.NORMAL)


async def test_plain_get_on_the_browser_path_is_426(nursery, browser_settings):
    server = await start_engine(nursery, browser_settings)
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    async with stream:
        await stream.send_all(b"GET /ws/browser?access=x HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await stream.receive_some()
    assert data.startswith(b"HTTP/1.1 426") and b"/ws/browser only speaks WebSocket" in data


async def test_a_browser_call_ended_by_the_server_is_still_finalized(nursery, browser_settings):
    reporter = InMemoryReporter()
    server = await start_engine(nursery, browser_settings, reporter)
    async with open_call(server.port, call_sid=SID, path=f"/ws/browser?access={access()}") as call:
        await call.connected()
        await call.start(params())
        await call.frames(SILENCE_FRAME, 3)
        server.shutdown_calls()
        await expect_close(call, CloseCode.GOING_AWAY)
    with trio.fail_after(5):
        await reporter.finalized.wait()
    assert reporter.records[0]["test"] is True
