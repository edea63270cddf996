"""The WhatsApp contract reader (contracts.wa_events): each event type, the session object and
the send request/response read back typed; every problem named at once; a newer version refused.
The gateway's fixtures (contracts/whatsapp/fixtures, when present) are all read by it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.wa_events import (
    ContractError,
    Inbound,
    Limited,
    SessionInfo,
    StatusUpdate,
    read_event,
    read_send_request,
    read_send_result,
    read_session,
)
from contracts.webhook_signature import verify

__all__ = ["envelope", "inbound_data", "session_data"]

FIXTURES = Path(__file__).resolve().parents[2] / "contracts" / "whatsapp" / "fixtures"


def session_data(**over: Any) -> dict[str, Any]:
    return {"version": 1, "business_id": "42", "shard_id": 1, "state": "connected", "reason": None, "qr": None,
            "me": {"phone": "+15551230000", "lid": "123@lid"}, "updated_at": "2026-12-06T10:00:00Z"} | over


def inbound_data(**over: Any) -> dict[str, Any]:
    return {"message_id": "3EB0AA", "chat": "15557654321@s.whatsapp.net", "from_phone": "+15557654321",
            "from_lid": None, "push_name": "Ann", "text": "hello", "media": None,
            "timestamp": "2026-12-06T10:00:00Z"} | over


def envelope(kind: str, data: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {"version": 1, "event_id": "0b5d2f0e-1c1a-4a43-9d0f-3a3c0a1b2c3d", "shard_id": 1, "business_id": "42",
            "epoch": 1, "seq": 7, "type": kind, "at": "2026-12-06T10:00:00Z", "data": data} | over


def test_each_event_type_reads_typed() -> None:
    event = read_event(envelope("message.inbound", inbound_data(media={"mime": "image/jpeg", "caption": "pic"})))
    assert isinstance(event.data, Inbound) and event.data.from_phone == "+15557654321"
    assert event.data.media is not None and event.data.media.mime == "image/jpeg"
    assert (event.business_id, event.shard_id, event.epoch, event.seq) == ("42", 1, 1, 7)
    status = read_event(envelope("message.status", {"message_id": "X", "status": "read", "error": None}))
    assert status.data == StatusUpdate("X", "read", None)
    state = read_event(envelope("session.state", {k: v for k, v in session_data().items() if k != "qr"}))
    assert isinstance(state.data, SessionInfo) and state.data.state == "connected" and state.data.qr is None
    limited = read_event(envelope("session.limited", {"until": "2026-12-07T00:00:00Z", "reason": "reach_out_limited"}))
    assert limited.data == Limited("2026-12-07T00:00:00Z", "reach_out_limited")


def test_lid_only_sender_is_accepted_but_an_unknown_sender_is_not() -> None:
    event = read_event(envelope("message.inbound", inbound_data(from_phone=None, from_lid="999@lid")))
    assert isinstance(event.data, Inbound) and event.data.from_lid == "999@lid"
    with pytest.raises(ContractError, match="both null"):
        read_event(envelope("message.inbound", inbound_data(from_phone=None, from_lid=None)))


def test_every_problem_is_named_at_once() -> None:
    bad = envelope("message.inbound", inbound_data(message_id="", from_phone="5551", text=None),
                   seq=-1, business_id="abc", event_id=None)
    with pytest.raises(ContractError) as info:
        read_event(bad)
    text = str(info.value)
    for part in ("event_id", "seq", "business_id", "data.message_id", "data.from_phone", "data.text"):
        assert part in text, (part, text)
    assert len(info.value.problems) == 6


def test_unknown_type_missing_data_and_non_object() -> None:
    with pytest.raises(ContractError, match="type must be one of"):
        read_event(envelope("message.deleted", {}))
    with pytest.raises(ContractError, match="missing data"):
        read_event({k: v for k, v in envelope("message.status", {}).items() if k != "data"})
    with pytest.raises(ContractError, match="JSON object"):
        read_event([1])
    with pytest.raises(ContractError, match="data.status must be one of"):
        read_event(envelope("message.status", {"message_id": "X", "status": "seen"}))


def test_newer_version_is_refused_and_unknown_keys_ignored() -> None:
    with pytest.raises(ContractError, match="version 2 is newer"):
        read_event(envelope("message.status", {"message_id": "X", "status": "read"}, version=2))
    with pytest.raises(ContractError, match="version 2 is newer"):
        read_session(session_data(version=2))
    event = read_event(envelope("message.status", {"message_id": "X", "status": "read", "extra": 1}, extra=True))
    assert event.type == "message.status"


def test_session_object() -> None:
    session = read_session(session_data(state="qr", qr="2@abc", me=None))
    assert session.state == "qr" and session.qr == "2@abc" and session.me is None
    assert read_session(session.to_dict()) == session
    with pytest.raises(ContractError) as info:
        read_session(session_data(state="weird", shard_id=0, me={"phone": "123"}))
    assert len(info.value.problems) == 3, info.value.problems


def test_send_request_and_result() -> None:
    body = {"version": 1, "to": "+15557654321", "text": "hi", "media": None, "idempotency_key": "k1"}
    request = read_send_request(body)
    assert request.to_dict() == body
    with pytest.raises(ContractError) as info:
        read_send_request(body | {"to": "0555", "idempotency_key": "k" * 161})
    assert len(info.value.problems) == 2
    assert read_send_result({"message_id": "3EB0", "status": "sent", "duplicate": True}).duplicate is True
    with pytest.raises(ContractError, match="message_id"):
        read_send_result({"status": "sent"})


READERS: dict[str, Any] = {"session.json": read_session, "send_request.json": read_send_request,
                           "send_response.json": read_send_result, "event_envelope.json": read_event}


def _fixtures() -> list[tuple[str, str]]:
    """(fixture, schema) pairs of the gateway's fixture index, for the schemas read here."""
    index = FIXTURES / "index.json"
    if not index.is_file():
        return []
    return [(name, schema) for name, schema in json.loads(index.read_text()).items() if schema in READERS]


@pytest.mark.skipif(not _fixtures(), reason="the gateway's fixtures are not in this tree (they merge in)")
@pytest.mark.parametrize(("name", "schema"), _fixtures(), ids=lambda v: str(v))
def test_gateway_fixture_is_read(name: str, schema: str) -> None:
    """Every fixture the gateway's own tests validate against a schema is read here too."""
    READERS[schema](json.loads((FIXTURES / name).read_text()))


@pytest.mark.skipif(not (FIXTURES.parent / "signed_event_example.json").is_file(), reason="merges in with the gateway")
def test_gateway_signed_example_verifies_and_reads() -> None:
    example = json.loads((FIXTURES.parent / "signed_event_example.json").read_text())
    body = example["body"].encode()
    assert verify(example["secret"], body, example["timestamp"], example["signature"], now=float(example["timestamp"]))
    assert read_event(json.loads(body)).type == "message.inbound"


def test_bounds_the_database_needs() -> None:
    """Ids, lengths and NULs that a column could not take are contract problems (400), not 500s."""
    bad = envelope("message.inbound", inbound_data(message_id="m" * 256, from_lid="x\x00@lid", chat="c" * 129),
                   business_id="99999999999", seq=2**53, shard_id=2**31)
    with pytest.raises(ContractError) as info:
        read_event(bad)
    text = str(info.value)
    for part in ("data.message_id is longer than 255", "data.from_lid contains a NUL", "data.chat is longer than 128",
                 "business_id must be a string of digits from 1", "seq must be a whole number", "shard_id must be"):
        assert part in text, (part, text)
    free = read_event(envelope("message.inbound", inbound_data(text="a\x00b", push_name="A\x00")))
    assert isinstance(free.data, Inbound) and free.data.text == "a\x00b"  # free text: cleaned where stored
