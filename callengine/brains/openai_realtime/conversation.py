"""One Realtime conversation as a pure state machine: vendor events in, commands out.

``Conversation`` owns everything a call learns from the vendor: the transcript (caller and
assistant, the assistant's cut to what the caller heard), the lead fields captured by tool
calls, barge-in decisions and the first-audio watchdog's clock. It never performs I/O: each
``on_*`` method returns an ``Actions`` with the Twilio commands and vendor events to send, and
the trio shell (``brain.py``) sends them. Time comes in as ``now`` arguments.

Barge-in: when the vendor reports ``input_audio_buffer.speech_started`` while assistant audio
is still queued, the caller is talking over us: ``clear`` goes to Twilio, the in-flight
response is cancelled, and each cut item is truncated at the audio the caller actually heard
(from mark echoes, see ``PlayoutTracker``). Late deltas of the cut items are dropped.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, final

import orjson

from callengine.audio.mulaw import BYTES_PER_SECOND
from callengine.brains.openai_realtime import protocol as p
from callengine.brains.openai_realtime.config import (
    CallSetup,
    RealtimeConfig,
    greeting_instructions,
)
from callengine.brains.openai_realtime.errors import ErrorCategory, VendorFailed
from callengine.brains.openai_realtime.playout import PlayoutTracker
from callengine.events import ClearPlayback, SendAudio, SendMark
from callengine.turns import TurnMetrics

if TYPE_CHECKING:
    from callengine.events import Command

__all__ = ["Actions", "Conversation", "validate_lead"]

MARK_CHUNK_BYTES = 800  # a mark every 100 ms of audio: the heard position is that precise
MAX_ERRORS_KEPT = 20
FALSE_ALARM_SECONDS = 2.0  # a local barge-in the vendor never confirms: the agent goes on
DTMF_PAUSE_SECONDS = 1.5  # keys typed in a row (a phone number) reach the model as one message
MAX_DTMF_DIGITS = 32
AUDIO_CLOCK_FRAMES = 3000  # 60 s of caller audio positions: longer than any one turn
SESSION_UPDATE_ID = "session-update"  # our event_id: an error naming it rejects the session
# Vendor error codes after which the session cannot go on (others are per-request).
FATAL_ERROR_CODES = frozenset({"invalid_api_key", "session_expired", "insufficient_quota"})
FATAL_ERROR_TYPES = frozenset({"authentication_error"})
_PHONE = re.compile(r"\+?[0-9]{7,15}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}")
LEAD_FIELDS = ("name", "reason", "callback_number", "email")


@dataclass(slots=True)
class Actions:
    twilio: list[Command] = field(default_factory=list)
    vendor: list[str] = field(default_factory=list)
    finished: bool = False  # the conversation is over: the brain returns (engine hangs up)
    failure: VendorFailed | None = None


@dataclass(slots=True)
class _Turn:
    speaker: str
    item_id: str
    text: str | None = None  # the whole text: the caller's words, or what the agent generated
    final: bool = False  # the agent's transcript is complete (deltas no longer append)
    audio_ms: int = 0
    heard_ms: int | None = None  # set when playback was cut

    @property
    def said(self) -> str:
        """The text the caller actually heard (the agent's cut at the heard position)."""
        text = (self.text or "").strip()
        if self.heard_ms is not None and self.audio_ms:
            return _cut_text(text, self.heard_ms / self.audio_ms)
        return text

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"speaker": self.speaker, "text": self.said}
        if self.speaker == "agent":
            doc["audio_ms"] = self.audio_ms
            doc["interrupted"] = self.heard_ms is not None
            if self.heard_ms is not None:
                doc["heard_ms"] = self.heard_ms
        return doc


def validate_lead(arguments: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Clean lead fields from a tool call; returns (accepted fields, problems)."""
    fields: dict[str, str] = {}
    problems: list[str] = []
    for key in LEAD_FIELDS:
        value = arguments.get(key)
        if value is None:
            continue
        if type(value) is not str or not value.strip():
            problems.append(f"{key} must be a non-empty string")
            continue
        value = " ".join(value.split())[:200]
        if key == "callback_number":
            digits = re.sub(r"[\s().-]", "", value)
            if not _PHONE.fullmatch(digits):
                problems.append("callback_number must be 7 to 15 digits, optionally with a leading +")
                continue
            value = digits
        elif key == "email":
            if not _EMAIL.fullmatch(value):
                problems.append("email is not a valid address")
                continue
            value = value.lower()
        fields[key] = value
    unknown = sorted(set(arguments) - set(LEAD_FIELDS))
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    if not fields and not problems:
        problems.append("no lead field given")
    return fields, problems


def _cut_text(text: str, fraction: float) -> str:
    """The words of ``text`` spoken in its first ``fraction`` (by characters, word-aligned)."""
    if fraction >= 1:
        return text
    end = int(len(text) * max(0.0, fraction))
    cut = text[:end]
    if end < len(text) and not text[end].isspace():
        cut = cut.rsplit(" ", 1)[0] if " " in cut else ""
    return cut.strip()


@final
class Conversation:
    def __init__(self, config: RealtimeConfig, setup: CallSetup) -> None:
        self._config = config
        self._setup = setup
        self.playout = PlayoutTracker()
        self.session_id = ""
        self.ready = False
        self.answered = False  # assistant audio has been sent to the caller
        self.lead: dict[str, str] = {}
        self.barge_ins = 0
        self.truncations: list[dict[str, int | str]] = []
        self.errors: list[dict[str, str | None]] = []
        self.hangup_reason: str | None = None
        self._turns: list[_Turn] = []
        self._by_item: dict[str, _Turn] = {}
        self._active_response: str | None = None
        self._cancelled: set[str] = set()  # responses whose late deltas are dropped
        self._muted_items: set[str] = set()
        self._tool_names: dict[str, str] = {}  # call_id -> function name
        self._handled_calls: set[str] = set()
        self._followup = False  # a tool answered: ask for the next response once this ends
        self._waiting_since: float | None = None  # watchdog: audio expected since then
        self._marks = 0
        self._outbox: list[str] = []  # vendor events decided off the vendor's tasks
        self._local_barge_at: float | None = None  # our own detector cut the agent off
        self.local_barge_ins = 0
        self.false_alarms = 0
        self._digits = ""  # keys pressed and not yet told to the model
        self._last_digit_at = 0.0
        self.metrics = TurnMetrics()
        # Our clock for the vendor's audio positions (audio_start_ms / audio_end_ms count the
        # audio appended in this session): (end position in ms, arrival time of that frame).
        self._audio_clock: deque[tuple[int, float]] = deque(maxlen=AUDIO_CLOCK_FRAMES)
        self._appended_ms = 0
        self._speech_started_ms = 0
        self._last_cut_ms = 0  # heard ms of the items the last barge-in cut

    def new_session(self) -> None:
        """A fresh vendor session (a retry): forget the old session's in-flight state."""
        self.session_id = ""
        self.ready = False
        self._active_response = None
        self._cancelled.clear()
        self._followup = False
        self._waiting_since = None
        self._outbox = []  # events for the old session mean nothing to the new one
        self._local_barge_at = None
        self._audio_clock.clear()  # the new session's audio positions start at 0
        self._appended_ms = 0

    # --- watchdog ---------------------------------------------------------------------------

    def stalled(self, now: float) -> bool:
        """No audio (nor the end of the response) within ``first_audio_seconds``."""
        return (
            self._waiting_since is not None
            and now - self._waiting_since > self._config.first_audio_seconds
        )

    # --- Twilio side ------------------------------------------------------------------------

    def on_mark(self, name: str) -> None:
        self.playout.reached(name)

    def audio_appended(self, nbytes: int, arrived_at: float) -> None:
        """A caller frame that arrived at ``arrived_at`` went to the vendor (its clock)."""
        self._appended_ms += nbytes * 1000 // BYTES_PER_SECOND
        self._audio_clock.append((self._appended_ms, arrived_at))

    def _arrival_of(self, position_ms: int, default: float) -> float:
        """When the caller frame holding the vendor's ``position_ms`` reached us."""
        for end_ms, arrived_at in self._audio_clock:
            if end_ms >= position_ms:
                return arrived_at
        return default

    def on_dtmf(self, digit: str, now: float) -> None:
        """A key press; told to the model by ``tick`` once the caller stops typing."""
        if len(self._digits) < MAX_DTMF_DIGITS:
            self._digits += digit
        self._last_digit_at = now

    def local_barge_in(self, now: float) -> list[Command]:
        """Our own detector heard the caller talk over the agent (before the vendor did).

        Returns the Twilio commands to send at once (``clear``); the vendor's cancel and
        truncate wait in the outbox for the next ``tick`` or vendor event. If the vendor
        never reports speech (a false alarm: a cough, a door), ``tick`` asks the agent to go
        on after ``FALSE_ALARM_SECONDS``.
        """
        if not self.ready or not self.playout.playing:
            return []
        out = Actions()
        self._barge_in(out)
        self.local_barge_ins += 1
        self._local_barge_at = now
        self._outbox.extend(out.vendor)
        return out.twilio

    def record_local_barge_in(self, onset_at: float, cleared_at: float) -> None:
        self.metrics.barge_in(onset_at, cleared_at, self._last_cut_ms)

    def tick(self, now: float) -> Actions:
        """Periodic work (every ~100 ms): the outbox, a false alarm, keys pressed."""
        out = Actions(vendor=self._take_outbox())
        if self._local_barge_at is not None and now - self._local_barge_at >= FALSE_ALARM_SECONDS:
            self._local_barge_at = None
            self.false_alarms += 1
            if self._active_response is None:
                out.vendor.append(p.build_response_create())
        self._due_dtmf(now, out)
        return out

    def _take_outbox(self) -> list[str]:
        outbox, self._outbox = self._outbox, []
        return outbox

    def _due_dtmf(self, now: float, out: Actions) -> None:
        """The keys pressed, as a user message plus a response, after a pause or ``#``."""
        if not self.ready or not self._digits:
            return
        if not self._digits.endswith("#") and now - self._last_digit_at < DTMF_PAUSE_SECONDS:
            return
        digits, self._digits = self._digits, ""
        out.vendor.append(
            p.build_user_text(f"[The caller pressed these keys on the phone keypad: {' '.join(digits)}]")
        )
        if self._active_response is None:
            out.vendor.append(p.build_response_create())
        else:
            self._followup = True

    # --- vendor side ------------------------------------------------------------------------

    def on_event(self, event: p.ServerEvent, now: float) -> Actions:
        kind = type(event)
        if kind is p.AudioDelta and not self._outbox:
            assert isinstance(event, p.AudioDelta)
            return self._on_audio(event, now)
        out = Actions(vendor=self._take_outbox())
        if kind is p.AudioDelta:
            assert isinstance(event, p.AudioDelta)
            audio = self._on_audio(event, now)
            out.twilio = audio.twilio
        elif kind is p.SpeechStarted:
            assert isinstance(event, p.SpeechStarted)
            self._turn("caller", event.item_id)
            self._speech_started_ms = event.audio_start_ms
            self._local_barge_at = None  # the vendor heard the caller too: not a false alarm
            if self.playout.playing:
                self._barge_in(out)
                # audio_start_ms includes the prefix padding: the voice began after it
                onset_ms = event.audio_start_ms + self._config.turn_detection.prefix_padding_ms
                self.metrics.barge_in(self._arrival_of(onset_ms, now), now, self._last_cut_ms)
        elif kind is p.SpeechStopped:
            assert isinstance(event, p.SpeechStopped)
            vad = self._config.turn_detection
            # audio_start_ms includes the prefix padding and audio_end_ms the silence that
            # ended the turn (documented): the voice itself lies between
            start_ms = self._speech_started_ms + vad.prefix_padding_ms
            end_ms = max(start_ms, event.audio_end_ms - vad.silence_duration_ms)
            self.metrics.caller_turn(
                self._arrival_of(start_ms, now), self._arrival_of(end_ms, now), now
            )
        elif kind is p.CallerTranscript:
            assert isinstance(event, p.CallerTranscript)
            self._turn("caller", event.item_id).text = event.transcript.strip()
        elif kind is p.ResponseCreated:
            assert isinstance(event, p.ResponseCreated)
            self._active_response = event.response_id
            if self._waiting_since is None:
                self._waiting_since = now
        elif kind is p.AudioTranscriptDelta:
            assert isinstance(event, p.AudioTranscriptDelta)
            turn = self._turn("agent", event.item_id)
            if not turn.final:
                turn.text = (turn.text or "") + event.delta
        elif kind is p.AudioTranscriptDone:
            assert isinstance(event, p.AudioTranscriptDone)
            turn = self._turn("agent", event.item_id)
            turn.text = event.transcript
            turn.final = True
        elif kind is p.FunctionCallItem:
            assert isinstance(event, p.FunctionCallItem)
            self._tool_names[event.call_id] = event.name
        elif kind is p.FunctionCallDone:
            assert isinstance(event, p.FunctionCallDone)
            self._on_function_call(event, out)
        elif kind is p.ResponseDone:
            assert isinstance(event, p.ResponseDone)
            self._on_response_done(event, out)
        elif kind is p.SessionCreated:
            assert isinstance(event, p.SessionCreated)
            self.session_id = event.session_id
        elif kind is p.SessionUpdated:
            if not self.ready:
                self.ready = True
                out.vendor.append(p.build_response_create(greeting_instructions(self._setup)))
                self._waiting_since = now
        elif kind is p.ItemTruncated:
            assert isinstance(event, p.ItemTruncated)
        elif kind is p.ErrorEvent:
            assert isinstance(event, p.ErrorEvent)
            self._on_error(event, out)
        return out

    def _turn(self, speaker: str, item_id: str) -> _Turn:
        turn = self._by_item.get(item_id)
        if turn is None:
            turn = self._by_item[item_id] = _Turn(speaker, item_id)
            self._turns.append(turn)
        return turn

    def _on_audio(self, event: p.AudioDelta, now: float) -> Actions:
        out = Actions()
        if event.response_id in self._cancelled or event.item_id in self._muted_items:
            return out  # late audio of a response the caller talked over
        self._waiting_since = None
        self.metrics.reply_queued(now)  # the first reply audio after a caller turn counts
        self.answered = True
        turn = self._turn("agent", event.item_id)
        audio = event.ulaw
        turn.audio_ms += len(audio) * 1000 // BYTES_PER_SECOND
        for start in range(0, len(audio), MARK_CHUNK_BYTES):
            chunk = audio[start : start + MARK_CHUNK_BYTES]
            self._marks += 1
            name = f"oai-{self._marks}"
            self.playout.sent(name, event.item_id, len(chunk))
            out.twilio.append(SendAudio(chunk))
            out.twilio.append(SendMark(name))
        return out

    def _barge_in(self, out: Actions) -> None:
        self.barge_ins += 1
        self._last_cut_ms = 0
        out.twilio.append(ClearPlayback())
        if self._active_response is not None and self._active_response not in self._cancelled:
            out.vendor.append(p.build_response_cancel(self._active_response))
            self._cancelled.add(self._active_response)
        for item_id, heard_ms in self.playout.flush().items():
            out.vendor.append(p.build_truncate(item_id, heard_ms))
            self._muted_items.add(item_id)
            self.truncations.append({"item_id": item_id, "audio_end_ms": heard_ms})
            self._last_cut_ms += heard_ms
            turn = self._by_item.get(item_id)
            if turn is not None:
                turn.heard_ms = heard_ms

    def _on_function_call(self, event: p.FunctionCallDone, out: Actions) -> None:
        if event.call_id in self._handled_calls:
            return
        self._handled_calls.add(event.call_id)
        name = event.name or self._tool_names.get(event.call_id, "")
        try:
            arguments = orjson.loads(event.arguments or "{}")
        except orjson.JSONDecodeError:
            arguments = None
        result: dict[str, Any]
        if type(arguments) is not dict:
            result = {"ok": False, "error": "arguments must be a JSON object"}
        elif name == "update_lead":
            fields, problems = validate_lead(arguments)
            self.lead.update(fields)
            result = {"ok": not problems, "saved": sorted(fields), "lead": dict(self.lead)}
            if problems:
                result["errors"] = problems
        elif name == "hang_up":
            reason = arguments.get("reason")
            self.hangup_reason = reason.strip()[:120] if type(reason) is str and reason.strip() else "caller done"
            result = {"ok": True}
        else:
            result = {"ok": False, "error": f"unknown tool {name!r}"}
        out.vendor.append(p.build_function_output(event.call_id, result))
        if self.hangup_reason is None:
            self._followup = True  # the model speaks again once it has the tool's answer

    def _on_response_done(self, event: p.ResponseDone, out: Actions) -> None:
        if self._active_response == event.response_id:
            self._active_response = None
        self._waiting_since = None
        if event.status == "failed":
            self._record_error("response_failed", None, event.error or "response failed")
        if self.hangup_reason is not None:
            out.finished = True
        elif self._followup:
            self._followup = False
            out.vendor.append(p.build_response_create())

    def _on_error(self, event: p.ErrorEvent, out: Actions) -> None:
        self._record_error(event.type, event.code, event.message)
        if event.event_id == SESSION_UPDATE_ID:
            out.failure = VendorFailed(
                f"vendor rejected the session: {event.code or event.type}", ErrorCategory.PROTOCOL
            )
        elif event.code in FATAL_ERROR_CODES or event.type in FATAL_ERROR_TYPES:
            category = ErrorCategory.AUTH if event.code == "invalid_api_key" else ErrorCategory.SERVER
            out.failure = VendorFailed(f"vendor error: {event.code or event.type}", category)

    def _record_error(self, kind: str, code: str | None, message: str) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append({"type": kind, "code": code, "message": message[:300]})

    # --- the record -------------------------------------------------------------------------

    def turn_metrics(self) -> dict[str, Any]:
        """The shared per-turn metrics (``callengine.turns.TurnMetrics``) of this call."""
        self.metrics.talk_ms = self.playout.heard_total_ms()
        return self.metrics.summary()

    def transcript(self) -> list[dict[str, Any]]:
        return [turn.as_json() for turn in self._turns if turn.text or turn.audio_ms]
