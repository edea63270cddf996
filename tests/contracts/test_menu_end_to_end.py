"""A business's keypad menu, set through the API, is the menu a call hears and acts on.

The whole path, each side's real code: PATCH /api/businesses/{id} (brain_settings.menu) → the
signed voice webhook stores the call setup in Redis → a call through the real calls engine,
answered by the receptionist the setup names, hears the custom menu and its caller presses
"3" (billing: not in the default menu) → the call record the engine hands its reporter says
so → ``jobs.calls.finalize_call`` stores it with the call and its lead.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import trio
from sqlalchemy import select

from api.db.models import Call, Lead
from callengine.brains import brain_factory
from callengine.brains.receptionist.settings import ReceptionistSettings
from callengine.brains.setup_store import RedisCallSetup
from callengine.settings import Settings
from callengine.turns.menu import Menu
from contracts.envvars import Secret
from jobs import db as jobs_db
from jobs.calls import finalize_call
from tests.api.conftest import INTERNAL, REDIS_URL, login, make_tenant
from tests.api.test_twilio import open_capacity, signed, voice_form
from tests.conftest import start_engine
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.twilio_ws import SILENCE_FRAME, FakeTwilio, open_call

__all__: list[str] = []

pytestmark = pytest.mark.slow  # one call played in real time (about 10 s)

SID = "CA" + "3e" * 16
CALLER = "+14445550123"
QUIET_SECONDS = 1.0  # the receptionist waits 6 s for a caller: 1 s without audio means it is done
MENU = [
    {"digit": "1", "label": "new patients", "intent": "sales"},
    {"digit": "3", "label": "billing questions", "intent": "billing"},
]


def engine_settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(
        host="127.0.0.1", port=0, redis_url=REDIS_URL, spool_dir=tmp_path / "spool",
        recordings_dir=tmp_path / "recordings", instance_id="contract-test",
        receptionist=ReceptionistSettings(asr_threads=1), drain_timeout_seconds=5, **changes,
    )


async def set_menu_through_the_api(client: Any, db: Any) -> str:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    resp = await client.patch(
        f"/api/businesses/{tenant.business_id}",
        json={"brain": "receptionist", "greeting": "Hello from Demo Dental.", "brain_settings": {"menu": MENU}},
        headers=headers,
    )
    assert resp.status_code == 200, await resp.get_data(as_text=True)
    return tenant.phone


async def answer_the_voice_webhook(client: Any, phone: str) -> dict[str, str]:
    """The signed webhook as Twilio sends it; returns the stream's <Parameter>s."""
    form = voice_form(phone, sid=SID, caller=CALLER)
    resp = await client.post("/twilio/voice", **signed("/twilio/voice", form))
    body = await resp.get_data(as_text=True)
    assert resp.status_code == 200, body
    stream = ET.fromstring(body).find("Connect/Stream")
    assert stream is not None, body
    return {str(p.get("name")): str(p.get("value")) for p in stream.findall("Parameter")}


async def listen_until_quiet(call: FakeTwilio) -> None:
    """Hear the agent out as Twilio plays it: echo each mark, until the line goes quiet once
    the agent has started to speak (speech synthesis may take a while first)."""
    spoken = False
    while True:
        with trio.move_on_after(QUIET_SECONDS if spoken else math.inf) as quiet:
            msg = await call.receive()
        if quiet.cancelled_caught:
            return
        spoken = spoken or msg["event"] == "media"
        if msg["event"] == "mark":
            await call.mark(msg["mark"]["name"])


async def play_the_call(settings: Settings, params: dict[str, str]) -> dict[str, Any]:
    """The caller hears the greeting and menu out, presses 3 and hears the next question;
    returns the call record."""
    reporter = InMemoryReporter()
    setups = RedisCallSetup(settings.redis_url)
    try:
        async with trio.open_nursery() as nursery:
            server = await start_engine(nursery, settings, reporter, brains=brain_factory(settings, setups))
            async with open_call(server.port, call_sid=SID) as call:
                await call.connected()
                await call.start(params)
                hung_up = False
                async with trio.open_nursery() as line:  # Twilio sends the caller's audio throughout
                    line.start_soon(lambda: call.stream(itertools.repeat(SILENCE_FRAME), until=lambda: hung_up))
                    with trio.fail_after(40):
                        await listen_until_quiet(call)  # greeting and menu, played in full
                        await call.dtmf("3")
                        await listen_until_quiet(call)  # the next question
                    hung_up = True
                await call.stop()
            with trio.fail_after(20):
                await reporter.finalized.wait()
            nursery.cancel_scope.cancel()
    finally:
        setups.close()
    return reporter.records[0]


# One database is enough here (the API's own tests run both); the call plays in real time.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_menu_set_through_the_api_is_the_menu_the_call_uses(
    client: Any, db: Any, redis_client: Any, db_url: str, tmp_path: Path
) -> None:
    assert Menu().intent_for("3") is None  # the default menu has no 3: only the business's can take it
    phone = await set_menu_through_the_api(client, db)
    open_capacity(redis_client)
    params = await answer_the_voice_webhook(client, phone)
    assert redis_client.exists(f"calls:setup:{SID}")

    # CALLS_BRAIN is echo: the receptionist answers because the business's setup names it.
    settings = engine_settings(tmp_path, brain="echo", internal_secret=Secret(INTERNAL))
    record = await play_the_call(settings, params)

    assert record["brain"] == "receptionist"
    first = record["transcript"][0]
    assert first["speaker"] == "agent" and not first["interrupted"], record["transcript"]
    assert first["text"].startswith("Hello from Demo Dental.")
    assert "press 1 for new patients, or 3 for billing questions" in first["text"]
    assert [(e["speaker"], e["dtmf"]) for e in record["transcript"] if "dtmf" in e] == [("caller", "3")]
    assert [d["digit"] for d in record["dtmf"]] == ["3"]
    lead = record["brain_summary"]["lead"]
    assert (lead["reason"], lead["intent_source"]) == ("billing", "dtmf")
    assert record["brain_summary"]["setup_problems"] == []

    jobs_db.configure(db_url)
    try:
        outcome = await trio.to_thread.run_sync(finalize_call, record)
    finally:
        jobs_db.reset()
    assert outcome["status"] == "stored"
    db.expire_all()
    call = db.scalars(select(Call).where(Call.call_sid == SID)).one()
    assert call.brain == "receptionist" and call.events["dtmf"][0]["digit"] == "3"
    assert "billing" in (call.summary or "")
    stored_lead = db.get(Lead, call.lead_id)
    assert stored_lead is not None and stored_lead.phone_e164 == CALLER
