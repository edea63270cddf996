"""The pure core of the Realtime brain: conversation state, played-audio tracking, setup."""

from __future__ import annotations

import json

import pytest

from callengine.brains.openai_realtime import protocol as p
from callengine.brains.openai_realtime.config import (
    CallSetup,
    RealtimeConfig,
    greeting_instructions,
    instructions_for,
)
from callengine.brains.openai_realtime.conversation import (
    Actions,
    Conversation,
    _cut_text,
    validate_lead,
)
from callengine.brains.openai_realtime.playout import PlayoutTracker
from callengine.events import ClearPlayback, SendAudio, SendMark
from callengine.settings import Secret


def conversation(**config: object) -> Conversation:
    return Conversation(RealtimeConfig(api_key=Secret("k"), **config), CallSetup(business_name="Acme"))  # type: ignore[arg-type]


def vendor(actions: Actions) -> list[dict[str, object]]:
    return [json.loads(text) for text in actions.vendor]


def marks(actions: Actions) -> list[str]:
    return [c.name for c in actions.twilio if isinstance(c, SendMark)]


# --- played-audio tracking -------------------------------------------------------------------


def test_playout_counts_only_marks_echoed_before_a_clear():
    t = PlayoutTracker()
    t.sent("m1", "item", 800)
    t.sent("m2", "item", 800)
    t.sent("m3", "item", 400)
    assert t.playing and t.playing_items() == ["item"]
    assert t.reached("m1")
    assert t.heard_ms("item") == 100
    assert t.flush() == {"item": 100}
    assert not t.playing
    # Twilio echoes the flushed marks after clear: they were not played
    assert not t.reached("m2") and not t.reached("m3")
    assert t.heard_ms("item") == 100
    assert t.sent_ms("item") == 250
    assert not t.reached("unknown")


# --- a whole exchange ------------------------------------------------------------------------


def test_greeting_is_requested_once_the_session_is_configured():
    conv = conversation()
    assert conv.on_event(p.SessionCreated("sess_1"), 0.0).vendor == []
    assert conv.session_id == "sess_1"
    out = conv.on_event(p.SessionUpdated({}), 0.0)
    assert [e["type"] for e in vendor(out)] == ["response.create"]
    assert "Acme" in vendor(out)[0]["response"]["instructions"]  # type: ignore[index]
    assert conv.on_event(p.SessionUpdated({}), 0.1).vendor == []  # only once


def test_audio_becomes_twilio_audio_with_a_mark_every_100_ms():
    conv = conversation()
    out = conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 2000), 0.0)
    audio = [c.ulaw for c in out.twilio if isinstance(c, SendAudio)]
    assert [len(a) for a in audio] == [800, 800, 400]
    assert b"".join(audio) == b"\x01" * 2000
    assert marks(out) == ["oai-1", "oai-2", "oai-3"]
    assert conv.answered
    assert conv.playout.sent_ms("i1") == 250


def test_barge_in_clears_cancels_and_truncates_at_the_heard_position():
    conv = conversation()
    conv.on_event(p.ResponseCreated("r1"), 0.0)
    sent = conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 4000), 0.1)
    for name in marks(sent)[:3]:
        conv.on_mark(name)
    out = conv.on_event(p.SpeechStarted("u1", 1000), 0.5)
    assert out.twilio == [ClearPlayback()]
    assert vendor(out) == [
        {"type": "response.cancel", "response_id": "r1"},
        {"type": "conversation.item.truncate", "item_id": "i1", "content_index": 0, "audio_end_ms": 300},
    ]
    assert conv.barge_ins == 1
    # late audio of the cancelled response never reaches the caller
    assert conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 800), 0.6).twilio == []
    # the flushed marks Twilio echoes after clear do not move the heard position
    for name in marks(sent)[3:]:
        conv.on_mark(name)
    conv.on_event(p.AudioTranscriptDone("r1", "i1", "one two three four five six seven eight nine ten"), 0.7)
    conv.on_event(p.CallerTranscript("u1", " wait "), 0.8)
    assert conv.transcript() == [
        {"speaker": "agent", "text": "one two three four five six", "audio_ms": 500, "interrupted": True, "heard_ms": 300},
        {"speaker": "caller", "text": "wait"},
    ]


def test_turn_metrics_map_the_vendors_audio_positions_to_our_clock():
    conv = conversation()  # prefix padding 300 ms
    for n in range(100):  # 2 s of caller audio, frame n arrived at 10 + 0.02 n
        conv.audio_appended(160, 10.0 + 0.02 * n)
    # the vendor: voice from 500 ms to 1000 ms (audio_start_ms includes the 300 ms padding,
    # audio_end_ms the 500 ms of silence that ended the turn)
    conv.on_event(p.SpeechStarted("u1", 200), 10.6)
    conv.on_event(p.SpeechStopped("u1", 1500), 12.1)  # its end of turn reaches us at 12.1
    conv.on_event(p.ResponseCreated("r1"), 12.2)
    conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 800), 12.45)
    conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 800), 12.5)
    metrics = conv.turn_metrics()
    # the voice ended in the frame that arrived at 10 + 0.02 × 49 = 10.98
    assert metrics["turns"] == [{"endpoint_ms": 1120, "brain_ms": 350, "response_ms": 1470}]
    assert metrics["listen_ms"] == 500
    assert metrics["talk_ms"] == 0  # no mark echoed yet


def test_barge_in_latency_is_measured_from_the_callers_first_voiced_frame():
    conv = conversation()
    for n in range(100):
        conv.audio_appended(160, 10.0 + 0.02 * n)
    sent = conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 1600), 10.0)
    conv.on_mark(marks(sent)[0])
    conv.on_event(p.SpeechStarted("u1", 700), 11.3)  # voice from 1000 ms: frame at 10.98
    assert conv.turn_metrics()["barge_ins"] == [{"latency_ms": 320, "agent_heard_ms": 100}]
    assert conv.turn_metrics()["talk_ms"] == 100


def test_local_barge_in_clears_at_once_and_tells_the_vendor_on_the_next_tick():
    conv = conversation()
    conv.on_event(p.SessionUpdated({}), 0.0)
    conv.on_event(p.ResponseCreated("r1"), 0.0)
    sent = conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 2400), 0.1)
    conv.on_mark(marks(sent)[0])
    assert conv.local_barge_in(0.5) == [ClearPlayback()]
    assert conv.local_barge_in(0.52) == []  # nothing plays any more
    assert [e["type"] for e in vendor(conv.tick(0.55))] == ["response.cancel", "conversation.item.truncate"]
    assert conv.truncations == [{"item_id": "i1", "audio_end_ms": 100}]
    # the vendor's VAD confirms a moment later: no second clear, no second truncate
    out = conv.on_event(p.SpeechStarted("u1", 400), 0.7)
    assert out.twilio == [] and out.vendor == []
    assert conv.tick(5.0).vendor == []  # confirmed: not a false alarm
    assert (conv.barge_ins, conv.local_barge_ins, conv.false_alarms) == (1, 1, 0)


def test_local_barge_in_outbox_goes_out_with_the_next_vendor_event():
    conv = conversation()
    conv.on_event(p.SessionUpdated({}), 0.0)
    conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 800), 0.1)
    conv.local_barge_in(0.2)
    out = conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 800), 0.21)
    assert out.twilio == []  # muted
    assert [e["type"] for e in vendor(out)] == ["conversation.item.truncate"]


def test_a_local_barge_in_the_vendor_never_confirms_lets_the_agent_go_on():
    conv = conversation()
    conv.on_event(p.SessionUpdated({}), 0.0)
    conv.on_event(p.ResponseCreated("r1"), 0.0)
    conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 1600), 0.1)
    conv.local_barge_in(1.0)
    conv.tick(1.1)
    conv.on_event(p.ResponseDone("r1", "cancelled", None), 1.2)
    assert conv.tick(2.9).vendor == []
    assert vendor(conv.tick(3.05)) == [{"type": "response.create"}]
    assert conv.false_alarms == 1
    assert conv.tick(9.0).vendor == []


def test_caller_speech_while_nothing_plays_is_not_a_barge_in():
    conv = conversation()
    sent = conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 800), 0.0)
    conv.on_mark(marks(sent)[0])  # all played
    out = conv.on_event(p.SpeechStarted("u1", 0), 1.0)
    assert out.twilio == [] and out.vendor == []
    assert conv.barge_ins == 0


def test_a_finished_response_is_not_cancelled_but_still_truncated():
    conv = conversation()
    conv.on_event(p.ResponseCreated("r1"), 0.0)
    sent = conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01" * 1600), 0.0)
    conv.on_event(p.ResponseDone("r1", "completed", None), 0.1)
    conv.on_mark(marks(sent)[0])
    out = conv.on_event(p.SpeechStarted("u1", 0), 0.2)
    assert [e["type"] for e in vendor(out)] == ["conversation.item.truncate"]


def test_lead_tool_call_answers_the_model_and_asks_for_the_next_response():
    conv = conversation()
    conv.on_event(p.ResponseCreated("r1"), 0.0)
    conv.on_event(p.FunctionCallItem("r1", "i5", "c1", "update_lead"), 0.0)
    args = json.dumps({"name": "Ann Lee", "callback_number": "555-010-9999", "email": "Ann@Example.com"})
    out = conv.on_event(p.FunctionCallDone("r1", "i5", "c1", args, None), 0.0)
    [item] = vendor(out)
    assert item["type"] == "conversation.item.create"
    result = json.loads(item["item"]["output"])  # type: ignore[index]
    assert result["ok"] is True
    assert conv.lead == {"name": "Ann Lee", "callback_number": "5550109999", "email": "ann@example.com"}
    # the same call delivered twice (e.g. again in response.done) is handled once
    assert conv.on_event(p.FunctionCallDone("r1", "i5", "c1", args, None), 0.0).vendor == []
    done = conv.on_event(p.ResponseDone("r1", "completed", None), 0.1)
    assert vendor(done) == [{"type": "response.create"}]
    assert not done.finished


def test_invalid_lead_fields_are_refused_so_the_model_asks_again():
    conv = conversation()
    args = json.dumps({"callback_number": "12", "reason": "boiler"})
    [item] = vendor(conv.on_event(p.FunctionCallDone("r1", "i5", "c1", args, "update_lead"), 0.0))
    result = json.loads(item["item"]["output"])  # type: ignore[index]
    assert result["ok"] is False
    assert result["saved"] == ["reason"]
    assert "callback_number" in result["errors"][0]
    assert conv.lead == {"reason": "boiler"}
    [bad] = vendor(conv.on_event(p.FunctionCallDone("r1", "i6", "c2", "not json", "update_lead"), 0.0))
    assert json.loads(bad["item"]["output"])["ok"] is False  # type: ignore[index]
    [unknown] = vendor(conv.on_event(p.FunctionCallDone("r1", "i7", "c3", "{}", "transfer"), 0.0))
    assert "unknown tool" in json.loads(unknown["item"]["output"])["error"]  # type: ignore[index]


def test_hang_up_finishes_when_the_response_is_done_without_another_response():
    conv = conversation()
    conv.on_event(p.ResponseCreated("r1"), 0.0)
    out = conv.on_event(p.FunctionCallDone("r1", "i5", "c1", '{"reason": "all set"}', "hang_up"), 0.0)
    assert [e["type"] for e in vendor(out)] == ["conversation.item.create"]
    done = conv.on_event(p.ResponseDone("r1", "completed", None), 0.1)
    assert done.finished and done.vendor == []
    assert conv.hangup_reason == "all set"


def test_keys_pressed_reach_the_model_once_the_caller_stops_typing():
    conv = conversation()
    conv.on_dtmf("1", 0.0)
    assert conv.tick(5.0).vendor == []  # the session is not ready yet: keys wait
    conv.on_event(p.SessionUpdated({}), 5.0)
    conv.on_dtmf("2", 5.1)
    conv.on_dtmf("3", 5.5)
    assert conv.tick(6.0).vendor == []  # still typing
    out = vendor(conv.tick(7.1))
    assert out[0]["item"] == {  # type: ignore[index]
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "[The caller pressed these keys on the phone keypad: 1 2 3]"}],
    }
    assert out[1] == {"type": "response.create"}
    assert conv.tick(9.0).vendor == []  # told once
    conv.on_event(p.ResponseCreated("r1"), 10.0)
    conv.on_dtmf("#", 10.1)  # "#" ends the entry at once; a response is active: wait for it
    assert [e["type"] for e in vendor(conv.tick(10.1))] == ["conversation.item.create"]
    assert vendor(conv.on_event(p.ResponseDone("r1", "completed", None), 11.0)) == [{"type": "response.create"}]


def test_first_audio_watchdog_clock():
    conv = conversation(first_audio_seconds=2.0)
    assert not conv.stalled(100.0)  # nothing expected yet
    conv.on_event(p.SessionUpdated({}), 10.0)  # greeting requested
    assert not conv.stalled(11.9)
    assert conv.stalled(12.1)
    conv.on_event(p.AudioDelta("r1", "i1", 0, b"\x01"), 12.0)
    assert not conv.stalled(50.0)
    conv.on_event(p.ResponseCreated("r2"), 60.0)
    assert conv.stalled(62.5)
    conv.on_event(p.ResponseDone("r2", "completed", None), 61.0)  # a tool-only response
    assert not conv.stalled(70.0)


def test_errors_are_recorded_and_only_fatal_ones_fail_the_session():
    conv = conversation()
    minor = conv.on_event(p.ErrorEvent("invalid_request_error", "response_cancel_not_active", "no response", None), 0)
    assert minor.failure is None
    rejected = conv.on_event(p.ErrorEvent("invalid_request_error", "invalid_value", "bad voice", "session-update"), 0)
    assert rejected.failure is not None and not rejected.failure.retryable
    expired = conv.on_event(p.ErrorEvent("invalid_request_error", "session_expired", "60 minutes", None), 0)
    assert expired.failure is not None and expired.failure.retryable
    key = conv.on_event(p.ErrorEvent("invalid_request_error", "invalid_api_key", "bad key", None), 0)
    assert key.failure is not None and not key.failure.retryable
    assert [e["code"] for e in conv.errors] == [
        "response_cancel_not_active", "invalid_value", "session_expired", "invalid_api_key"
    ]


def test_new_session_forgets_in_flight_state_but_keeps_the_record():
    conv = conversation()
    conv.on_event(p.SessionUpdated({}), 0.0)
    conv.on_event(p.ResponseCreated("r1"), 0.0)
    conv.on_event(p.CallerTranscript("u1", "hello"), 0.0)
    conv.new_session()
    assert not conv.ready and not conv.stalled(1000.0)
    assert [e["type"] for e in vendor(conv.on_event(p.SessionUpdated({}), 1.0))] == ["response.create"]
    assert conv.transcript() == [{"speaker": "caller", "text": "hello"}]


# --- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fraction", "said"),
    [
        ("hello there my friend", 1.0, "hello there my friend"),
        ("hello there my friend", 0.6, "hello there"),
        ("hello there my friend", 0.3, "hello"),
        ("hello there my friend", 0.1, ""),
        ("hello there my friend", 0.0, ""),
    ],
)
def test_cut_text_keeps_whole_words(text, fraction, said):
    assert _cut_text(text, fraction) == said


def test_validate_lead():
    assert validate_lead({"name": "  Bob   Smith "}) == ({"name": "Bob Smith"}, [])
    assert validate_lead({"callback_number": "+44 (20) 7946-0958"}) == ({"callback_number": "+442079460958"}, [])
    assert validate_lead({}) == ({}, ["no lead field given"])
    fields, problems = validate_lead({"email": "nope", "name": 5, "age": "40"})
    assert fields == {}
    assert problems == ["name must be a non-empty string", "email is not a valid address", "unknown fields: age"]


def test_call_setup_tolerates_missing_and_mistyped_fields():
    assert CallSetup.from_json(None) == (CallSetup(), ["no call setup stored"])
    assert CallSetup.from_json(b"{oops")[1][0].startswith("setup is not JSON")
    assert CallSetup.from_json(b"[1]") == (CallSetup(), ["setup is not a JSON object"])
    setup, problems = CallSetup.from_json(
        json.dumps(
            {
                "business_name": "Acme",
                "greeting": "Hi from Acme",
                "brain_settings": {"prompt": "Be Acme.", "voice": 7},
                "language": 7,
                "from": "+15550001111",
            }
        )
    )
    assert setup == CallSetup(
        business_name="Acme", greeting="Hi from Acme", prompt="Be Acme.", caller_number="+15550001111"
    )
    assert problems == ["language: expected a string, got int", "brain_settings.voice is not a string"]
    # the API's setup (api/call_setup.py, version 1) for an outbound call to a known lead
    setup, problems = CallSetup.from_json(
        json.dumps(
            {
                "version": 1,
                "business_name": "Demo Dental",
                "direction": "outbound",
                "from": "+15550100000",
                "to": "+15557778888",
                "greeting": "",
                "brain_settings": {},
                "language": "en",
                "lead": {"id": 7, "name": "Ann", "status": "new"},
                "menu": [],
                "unknown_future_key": {"x": 1},
            }
        )
    )
    assert problems == []
    assert setup.caller_number == "+15557778888"
    assert setup.known_name == "Ann"
    assert "belongs to Ann" in instructions_for(setup)


def test_instructions_carry_the_business_prompt_rules_and_language():
    setup = CallSetup(business_name="Acme", prompt="You are Acme's receptionist.", language="Spanish", caller_number="+15550001111")
    text = instructions_for(setup)
    assert text.startswith("You are Acme's receptionist.")
    assert "update_lead" in text and "hang_up" in text
    assert "+15550001111" in text
    assert text.endswith("Speak Spanish.")
    assert "Acme" in instructions_for(CallSetup(business_name="Acme"))
    assert "Hola" in greeting_instructions(CallSetup(greeting="Hola, Acme"))


def test_config_headers_and_url():
    config = RealtimeConfig(api_key=Secret("sk-1"), url="ws://127.0.0.1:9/v1/realtime", model="gpt-realtime-mini")
    assert config.session_url == "ws://127.0.0.1:9/v1/realtime?model=gpt-realtime-mini"
    assert config.headers() == [(b"authorization", b"Bearer sk-1")]
    beta = RealtimeConfig(api_key=Secret("sk-1"), dialect=p.Dialect.BETA)
    assert (b"openai-beta", b"realtime=v1") in beta.headers()
    assert "sk-1" not in repr(config)
