"""Header-only inspection of server messages."""

from __future__ import annotations

import base64

import orjson
import pytest

from callengine.loadtest.sniff import event_of, mark_name, payload_bytes


@pytest.mark.parametrize("size", [1, 2, 3, 160, 161, 800])
def test_payload_bytes_matches_decoded_length(size: int) -> None:
    payload = base64.b64encode(bytes(size)).decode()
    msg = orjson.dumps({"event": "media", "streamSid": "MZ1", "media": {"payload": payload}})
    assert event_of(msg) == b"media"
    assert payload_bytes(msg) == size


def test_sniffing_tolerates_whitespace_and_key_order() -> None:
    msg = b'{ "streamSid" : "MZ1", "media": {"payload": "AAAA"}, "event" : "media" }'
    assert event_of(msg) == b"media"
    assert payload_bytes(msg) == 3


def test_mark_name_is_returned_raw_with_escapes() -> None:
    msg = orjson.dumps({"event": "mark", "streamSid": "MZ1", "mark": {"name": 'say "hi"'}})
    assert event_of(msg) == b"mark"
    assert mark_name(msg) == b'say \\"hi\\"'


def test_value_equal_to_a_key_name_is_not_mistaken_for_the_key() -> None:
    msg = b'{"mark":{"name":"event"},"event":"mark","streamSid":"MZ1"}'
    assert event_of(msg) == b"mark"


def test_missing_fields() -> None:
    assert event_of(b'{"streamSid":"MZ1"}') is None
    assert payload_bytes(b'{"event":"media"}') == -1
    assert mark_name(b'{"event":"mark"}') is None
