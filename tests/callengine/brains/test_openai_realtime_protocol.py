"""The Realtime codec (pure): client events as the vendor documents them, server events parsed."""

from __future__ import annotations

import base64
import json

import pytest

from callengine.brains.openai_realtime import protocol as p
from callengine.brains.openai_realtime.errors import RealtimeProtocolError

TOOLS = [{"name": "hang_up", "description": "End the call.", "parameters": {"type": "object", "properties": {}}}]


def session_update(dialect: p.Dialect, **kwargs: object) -> dict[str, object]:
    text = p.build_session_update(
        dialect,
        instructions="Be brief.",
        voice="marin",
        tools=TOOLS,
        turn_detection=p.TurnDetection(threshold=0.6, prefix_padding_ms=200, silence_duration_ms=400),
        transcription_model="gpt-4o-mini-transcribe",
        **kwargs,  # type: ignore[arg-type]
    )
    doc: dict[str, object] = json.loads(text)
    return doc


def test_ga_session_update_asks_for_pcmu_both_ways_server_vad_and_transcription():
    doc = session_update(p.Dialect.GA, language="en", event_id="session-update")
    assert doc["type"] == "session.update"
    assert doc["event_id"] == "session-update"
    session = doc["session"]
    assert isinstance(session, dict)
    assert session["type"] == "realtime"
    assert session["instructions"] == "Be brief."
    assert session["output_modalities"] == ["audio"]
    audio = session["audio"]
    assert audio["input"]["format"] == {"type": "audio/pcmu"}
    assert audio["output"] == {"format": {"type": "audio/pcmu"}, "voice": "marin"}
    assert audio["input"]["transcription"] == {"model": "gpt-4o-mini-transcribe", "language": "en"}
    assert audio["input"]["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.6,
        "prefix_padding_ms": 200,
        "silence_duration_ms": 400,
        "create_response": True,
        "interrupt_response": True,
    }
    assert session["tools"] == [{"type": "function", **TOOLS[0]}]
    assert session["tool_choice"] == "auto"


def test_beta_session_update_uses_g711_ulaw_fields():
    session = session_update(p.Dialect.BETA)["session"]
    assert isinstance(session, dict)
    assert session["input_audio_format"] == "g711_ulaw"
    assert session["output_audio_format"] == "g711_ulaw"
    assert session["voice"] == "marin"
    assert session["input_audio_transcription"] == {"model": "gpt-4o-mini-transcribe"}
    assert session["turn_detection"]["type"] == "server_vad"
    assert "audio" not in session and "type" not in session


def test_client_events():
    ulaw = bytes(range(256))
    append = json.loads(p.build_append(ulaw))
    assert append["type"] == "input_audio_buffer.append"
    assert base64.b64decode(append["audio"]) == ulaw
    assert json.loads(p.build_response_cancel("resp_1")) == {"type": "response.cancel", "response_id": "resp_1"}
    assert json.loads(p.build_response_cancel()) == {"type": "response.cancel"}
    assert json.loads(p.build_truncate("item_9", 1234)) == {
        "type": "conversation.item.truncate",
        "item_id": "item_9",
        "content_index": 0,
        "audio_end_ms": 1234,
    }
    assert json.loads(p.build_truncate("item_9", -5))["audio_end_ms"] == 0
    create = json.loads(p.build_response_create("Greet the caller."))
    assert create == {"type": "response.create", "response": {"instructions": "Greet the caller."}}
    assert json.loads(p.build_response_create()) == {"type": "response.create"}
    output = json.loads(p.build_function_output("call_1", {"ok": True}))
    assert output["type"] == "conversation.item.create"
    assert output["item"]["type"] == "function_call_output"
    assert output["item"]["call_id"] == "call_1"
    assert json.loads(output["item"]["output"]) == {"ok": True}


@pytest.mark.parametrize("kind", ["response.output_audio.delta", "response.audio.delta"])
def test_audio_delta_in_both_dialects(kind):
    event = p.parse(
        json.dumps(
            {
                "type": kind,
                "event_id": "e1",
                "response_id": "resp_1",
                "item_id": "item_2",
                "output_index": 0,
                "content_index": 0,
                "delta": base64.b64encode(b"\x01\x02\xff").decode(),
            }
        )
    )
    assert event == p.AudioDelta("resp_1", "item_2", 0, b"\x01\x02\xff")


def test_server_events():
    def parse(doc: dict[str, object]) -> p.ServerEvent:
        return p.parse(json.dumps(doc))

    assert parse({"type": "session.created", "session": {"id": "sess_1"}}) == p.SessionCreated("sess_1")
    assert parse({"type": "input_audio_buffer.speech_started", "audio_start_ms": 900, "item_id": "i1"}) == p.SpeechStarted("i1", 900)
    assert parse({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 1900, "item_id": "i1"}) == p.SpeechStopped("i1", 1900)
    assert parse({"type": "response.created", "response": {"id": "r1", "status": "in_progress"}}) == p.ResponseCreated("r1")
    done = parse(
        {
            "type": "response.done",
            "response": {"id": "r1", "status": "failed", "status_details": {"error": {"code": "server_error"}}},
        }
    )
    assert done == p.ResponseDone("r1", "failed", '{"code":"server_error"}')
    assert parse(
        {"type": "conversation.item.input_audio_transcription.completed", "item_id": "i1", "content_index": 0, "transcript": "hello"}
    ) == p.CallerTranscript("i1", "hello")
    assert parse(
        {"type": "response.output_audio_transcript.done", "response_id": "r1", "item_id": "i2", "transcript": "Hi!"}
    ) == p.AudioTranscriptDone("r1", "i2", "Hi!")
    assert parse(
        {"type": "response.audio_transcript.delta", "response_id": "r1", "item_id": "i2", "delta": "Hi"}
    ) == p.AudioTranscriptDelta("r1", "i2", "Hi")
    assert parse(
        {
            "type": "response.output_item.added",
            "response_id": "r1",
            "output_index": 1,
            "item": {"id": "i3", "type": "function_call", "call_id": "c1", "name": "hang_up", "arguments": ""},
        }
    ) == p.FunctionCallItem("r1", "i3", "c1", "hang_up")
    assert parse(
        {"type": "response.output_item.added", "response_id": "r1", "item": {"id": "i2", "type": "message"}}
    ) == p.OtherEvent("response.output_item.added")
    assert parse(
        {"type": "response.function_call_arguments.done", "response_id": "r1", "item_id": "i3", "output_index": 1, "call_id": "c1", "arguments": "{}"}
    ) == p.FunctionCallDone("r1", "i3", "c1", "{}", None)
    assert parse({"type": "conversation.item.truncated", "item_id": "i2", "content_index": 0, "audio_end_ms": 500}) == p.ItemTruncated("i2", 500)
    assert parse(
        {"type": "error", "error": {"type": "invalid_request_error", "code": "invalid_value", "message": "bad", "event_id": "session-update"}}
    ) == p.ErrorEvent("invalid_request_error", "invalid_value", "bad", "session-update")
    assert parse({"type": "rate_limits.updated", "rate_limits": []}) == p.OtherEvent("rate_limits.updated")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"no": "type"}',
        '{"type": 7}',
        '{"type": "response.output_audio.delta", "response_id": "r", "item_id": "i", "delta": "***"}',
        '{"type": "response.output_audio.delta", "item_id": "i", "delta": ""}',
        '{"type": "input_audio_buffer.speech_started", "item_id": 5}',
        '{"type": "response.created"}',
        '{"type": "error"}',
    ],
)
def test_malformed_server_events_raise_protocol_error(text):
    with pytest.raises(RealtimeProtocolError) as info:
        p.parse(text)
    assert info.value.category.is_permanent
