"""The WhatsApp gateway contract as Python reads it (docs/ARCHITECTURE.md §7): the JSON Schemas
in ``contracts/whatsapp/schemas`` accept every fixture in ``contracts/whatsapp/fixtures`` (the
Node gateway's tests check the same files and its real outputs), reject broken copies, and the
gateway's signed example verifies with ``contracts.webhook_signature.verify``."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from contracts.webhook_signature import verify

ROOT = Path(__file__).resolve().parents[2] / "contracts" / "whatsapp"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


SCHEMAS = {p.name: _load(p) for p in sorted((ROOT / "schemas").glob("*.json"))}
INDEX: dict[str, str] = _load(ROOT / "fixtures" / "index.json")
REGISTRY: Registry = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in SCHEMAS.values()
)
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 date-time with an explicit offset (``Z`` or ``±hh:mm``), as both sides write it."""
    if not isinstance(value, str) or "T" not in value or not (value.endswith("Z") or value[-6] in "+-"):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def validator(schema_file: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(SCHEMAS[schema_file], registry=REGISTRY, format_checker=FORMATS)


def test_every_schema_is_a_valid_draft7_schema_with_an_id() -> None:
    assert len(SCHEMAS) >= 12
    for name, schema in SCHEMAS.items():
        jsonschema.Draft7Validator.check_schema(schema)
        assert schema["$id"].endswith("/" + name)


def test_every_fixture_is_indexed() -> None:
    files = sorted(p.name for p in (ROOT / "fixtures").glob("*.json") if p.name != "index.json")
    assert sorted(INDEX) == files
    assert set(INDEX.values()) <= set(SCHEMAS)


@pytest.mark.parametrize("fixture", sorted(INDEX))
def test_fixture_validates(fixture: str) -> None:
    validator(INDEX[fixture]).validate(_load(ROOT / "fixtures" / fixture))


def test_each_event_type_has_a_fixture() -> None:
    types = {_load(ROOT / "fixtures" / f)["type"] for f, s in INDEX.items() if s == "event_envelope.json"}
    assert types == {"message.inbound", "message.status", "session.state", "session.limited"}


def _broken() -> list[tuple[str, dict[str, Any]]]:
    fx = {name: _load(ROOT / "fixtures" / name) for name in INDEX}
    cases: list[tuple[str, dict[str, Any]]] = []

    def edit(fixture: str, schema: str, path: list[str], value: object) -> None:
        doc = copy.deepcopy(fx[fixture])
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        cases.append((schema, doc))

    edit("event_message_inbound.json", "event_envelope.json", ["seq"], 0)
    edit("event_message_inbound.json", "event_envelope.json", ["type"], "message.unknown")
    edit("event_message_inbound.json", "event_envelope.json", ["data", "from_phone"], "15557654321")
    edit("event_message_inbound.json", "event_envelope.json", ["business_id"], 42)
    edit("event_message_status.json", "event_envelope.json", ["data", "status"], "queued")
    edit("event_session_limited.json", "event_envelope.json", ["data", "until"], "tomorrow")
    edit("event_session_state.json", "event_envelope.json", ["data", "qr"], "2@abc")
    edit("session_connected.json", "session.json", ["state"], "online")
    edit("send_request.json", "send_request.json", ["idempotency_key"], "x" * 161)
    edit("send_request.json", "send_request.json", ["to"], "+1")
    edit("send_response.json", "send_response.json", ["duplicate"], "no")
    return cases


@pytest.mark.parametrize(("schema", "document"), _broken())
def test_broken_documents_are_rejected(schema: str, document: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator(schema).validate(document)


def test_the_gateways_signed_example_verifies_in_python() -> None:
    example = _load(ROOT / "signed_event_example.json")
    body = example["body"].encode("utf-8")
    now = int(example["timestamp"])
    assert verify(example["secret"], body, example["timestamp"], example["signature"], now=now)
    assert not verify(example["secret"], body + b" ", example["timestamp"], example["signature"], now=now)
    validator("event_envelope.json").validate(json.loads(body))
