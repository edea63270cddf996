"""``scripts/show_calls.py`` (make run's demo output): what the agent understood comes first,
and the full-vocabulary transcript is only ever printed labelled as such."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("show_calls", ROOT / "scripts" / "show_calls.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CALL: dict[str, Any] = {
    "id": 1, "call_sid": "CA1", "direction": "inbound", "from": "+15551230000", "to": "+15550100000",
    "status": "completed", "duration_seconds": 34.6, "end_reason": "hangup",
    "lead": {"name": "David", "phone_e164": "+15551230000", "status": "new"},
    "summary": "David: sales; call back +15551230000",
}  # fmt: skip
# The demo call's record as the API returns it (trimmed): "heard" is the grammar's answer,
# "text" the recogniser's full-vocabulary guess.
DETAIL: dict[str, Any] = {
    "events": {"brain_summary": {"lead": {
        "name": "David", "name_confirmed": True, "reason": "sales", "intent_source": "speech",
        "callback_number": "+15551230000", "number_source": "caller_id", "message": None, "message_path": None,
    }}},
    "transcript": [
        {"speaker": "agent", "text": "Thanks for calling Demo Business. How can I help you today?"},
        {"speaker": "caller", "expect": "intent", "heard": "sales please", "text": "i don't believe"},
        {"speaker": "agent", "text": "Your first name, please?"},
        {"speaker": "caller", "expect": "name", "heard": "david", "text": "they lead"},
        {"speaker": "caller", "expect": "yes_no", "text": "um"},
    ],
}  # fmt: skip


def test_the_demo_call_shows_what_was_understood_and_labels_the_transcript() -> None:
    lines = _load().describe_call(CALL, DETAIL)
    assert lines[1] == "  understood: need sales (said), name David (confirmed), call back +15551230000 (caller ID, confirmed)"
    caller_lines = [line for line in lines if line.lstrip().startswith("caller:")]
    assert caller_lines == [
        '    caller: "sales please"  [intent]',
        '    caller: "david"  [name]',
        "    caller: (not understood)  [yes_no]",
    ]
    assert lines[-1] == '  transcript (best effort, full vocabulary): "i don\'t believe" / "they lead" / "um"'
    # the full-vocabulary words appear only on the labelled line
    assert [line for line in lines if "they lead" in line] == [lines[-1]]


def test_a_message_and_a_typed_number() -> None:
    detail = {"events": {"brain_summary": {"lead": {
        "reason": "message", "intent_source": "dtmf", "callback_number": "5551234567", "number_source": "dtmf",
        "message": "the sink leaks",
    }}}, "transcript": []}  # fmt: skip
    [_, understood, *_] = _load().describe_call(CALL, detail)
    assert understood == "  understood: need message (keypad), call back 5551234567 (typed), message \"the sink leaks\""


def test_a_call_without_a_brain_summary_has_no_understood_line() -> None:
    lines = _load().describe_call(CALL, {"events": {}, "transcript": []})
    assert not any("understood" in line or "transcript" in line for line in lines)
