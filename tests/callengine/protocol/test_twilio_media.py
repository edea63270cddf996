from __future__ import annotations

import base64
import json

import pytest

from callengine.errors import ProtocolError
from callengine.events import (
    ClearPlayback,
    DtmfReceived,
    HangUp,
    MarkReached,
    MediaReceived,
    SendAudio,
    SendMark,
    StreamConnected,
    StreamStarted,
    StreamStopped,
    UnknownEvent,
)
from callengine.protocol.twilio_media import decode, encode

# Shapes from https://www.twilio.com/docs/voice/media-streams/websocket-messages
CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {
        "accountSid": "AC" + "a" * 32,
        "streamSid": "MZ" + "b" * 32,
        "callSid": "CA" + "c" * 32,
        "tracks": ["inbound"],
        "customParameters": {"business_id": "42", "token": "t"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    },
    "streamSid": "MZ" + "b" * 32,
}
PAYLOAD = bytes(range(160))
MEDIA = {
    "event": "media",
    "sequenceNumber": "3",
    "media": {
        "track": "inbound",
        "chunk": "1",
        "timestamp": "5",
        "payload": base64.b64encode(PAYLOAD).decode(),
    },
    "streamSid": "MZ" + "b" * 32,
}


def test_decode_connected():
    assert decode(json.dumps(CONNECTED)) == StreamConnected("Call", "1.0.0")


def test_decode_start_keeps_custom_parameters():
    event = decode(json.dumps(START))
    assert isinstance(event, StreamStarted)
    assert event.call_sid == "CA" + "c" * 32
    assert event.stream_sid == "MZ" + "b" * 32
    assert event.custom_parameters == {"business_id": "42", "token": "t"}
    assert event.sequence_number == 1
    assert event.tracks == ("inbound",)


def test_decode_media_gives_ulaw_and_pcm():
    event = decode(json.dumps(MEDIA))
    assert isinstance(event, MediaReceived)
    assert event.ulaw == PAYLOAD
    assert len(event.pcm) == 320
    assert (event.timestamp_ms, event.chunk, event.sequence_number) == (5, 1, 3)


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        ({"event": "dtmf", "sequenceNumber": "5", "dtmf": {"track": "inbound_track", "digit": "#"}}, DtmfReceived("#", 5)),
        ({"event": "mark", "sequenceNumber": "4", "mark": {"name": "echo-1"}}, MarkReached("echo-1", 4)),
        ({"event": "stop", "sequenceNumber": "9", "stop": {"callSid": "CA1"}}, StreamStopped(9)),
        ({"event": "brand-new-event"}, UnknownEvent("brand-new-event")),
    ],
)
def test_decode_other_events(msg, expected):
    assert decode(json.dumps(msg)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{nope", "malformed JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"no": "event"}', "no 'event'"),
        ('{"event": "media", "sequenceNumber": "2"}', "missing field 'media'"),
        ('{"event": "media", "sequenceNumber": "2", "media": {"timestamp": "0", "payload": "!!"}}', "bad field"),
        ('{"event": "media", "sequenceNumber": "x", "media": {"timestamp": "0", "payload": ""}}', "bad field"),
        ('{"event": "dtmf", "sequenceNumber": "2", "dtmf": {"digit": "12"}}', "invalid DTMF"),
        ('{"event": "start", "sequenceNumber": "1", "start": {"callSid": "CA1"}}', "missing field 'streamSid'"),
        ('{"event": "mark", "sequenceNumber": "2", "mark": {}}', "missing field 'name'"),
    ],
)
def test_decode_rejects_malformed_input(text, reason):
    with pytest.raises(ProtocolError) as err:
        decode(text)
    assert reason in err.value.reason


def test_start_with_unsafe_sid_is_rejected():
    bad = json.loads(json.dumps(START))
    bad["start"]["streamSid"] = 'MZ"},"x":"'
    with pytest.raises(ProtocolError, match="streamSid"):
        decode(json.dumps(bad))


def test_start_with_other_media_format_is_rejected():
    bad = json.loads(json.dumps(START))
    bad["start"]["mediaFormat"]["sampleRate"] = 16000
    with pytest.raises(ProtocolError, match="unsupported media format"):
        decode(json.dumps(bad))


def test_oversize_media_payload_is_rejected():
    big = json.loads(json.dumps(MEDIA))
    big["media"]["payload"] = base64.b64encode(b"\xff" * 9000).decode()
    with pytest.raises(ProtocolError, match="too large"):
        decode(json.dumps(big))


def test_encode_outbound_messages_golden():
    sid = "MZ123"
    assert json.loads(encode(SendAudio(b"\xff\x7f"), sid)) == {
        "event": "media",
        "streamSid": sid,
        "media": {"payload": "/38="},
    }
    assert json.loads(encode(SendMark("m-1"), sid)) == {
        "event": "mark",
        "streamSid": sid,
        "mark": {"name": "m-1"},
    }
    assert json.loads(encode(ClearPlayback(), sid)) == {"event": "clear", "streamSid": sid}


def test_mark_names_are_json_escaped():
    assert json.loads(encode(SendMark('a"b'), "MZ1"))["mark"]["name"] == 'a"b'


def test_hangup_is_not_a_message():
    with pytest.raises(ValueError):
        encode(HangUp(), "MZ1")


def test_media_round_trip_through_twilio_shape():
    sent = json.loads(encode(SendAudio(PAYLOAD), "MZ1"))
    inbound = {**MEDIA, "media": {**MEDIA["media"], "payload": sent["media"]["payload"]}}
    assert decode(json.dumps(inbound)).ulaw == PAYLOAD
