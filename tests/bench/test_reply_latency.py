"""The reply bench's callers follow the dialogue as the engine hears them (a scripted recogniser
stands in for pocketsphinx: fast, and the situation is chosen)."""

from __future__ import annotations

import shutil

import pytest

from bench import reply_latency
from bench.reply_latency import CALLERS, analyse, render
from callengine.brains.receptionist.asr import Heard
from callengine.brains.receptionist.grammars import COMMON_NAMES

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


class Scripted:
    """Hears the given texts, one decode after another, and keeps what it was asked."""

    def __init__(self, texts: list[str | None]) -> None:
        self.texts = list(texts)
        self.channels: list[str | None] = []
        self.grammars: list[str | None] = []

    def recognize(self, pcm8k: bytes, grammar: str | None, channel: str | None = None) -> Heard:
        assert pcm8k, "an answer is decoded from its audio"
        self.grammars.append(grammar)
        self.channels.append(channel)
        return Heard(self.texts.pop(0), f"channel {len(self.channels)}")


def _answers(log: list[str]) -> list[str]:
    return [entry.split(" (heard")[0] for entry in log if entry.startswith(("caller", "agent: Is that"))]


def test_a_wrong_clarifying_question_gets_no_and_the_need_is_pressed_on_the_keypad() -> None:
    caller = CALLERS[0]  # wants support
    assert caller.intent == "support" and not caller.pauses
    hearing = Scripted([
        None, "i want to buy",  # the need: keyword grammar, need model → "Is that about sales?"
        "no",  # → the keypad menu
        "david", "yes",  # name, spell-back
        "no", "two zero six five five five zero one nine eight", "yes",  # caller ID, number, read-back
    ])  # fmt: skip
    out = render(caller, 1, {}, hearing, tuple(COMMON_NAMES), "+15551230000")
    assert _answers(out.log)[:3] == ["caller: i need support", "agent: Is that about sales, or something else?", "caller: no"]
    assert [key for _, key in out.dtmf] == ["2"]  # support on the default menu
    assert out.lead["reason"] == "support" and out.lead["intent_source"] == "dtmf"
    assert out.lead["name"] == "David" and out.lead["callback_number"] == caller.number
    assert out.heard == [None, "no", "david", "yes", "no", "two zero six five five five zero one nine eight", "yes"]
    # the need model decodes from the same channel as the grammar; the next turn goes on from
    # the grammar's decode, as in the brain
    assert hearing.channels[:3] == [None, None, "channel 1"]
    assert not hearing.texts
    # the key is pressed after the question, and the answers after it come later still
    menu_at = out.dtmf[0][0] / 1000
    assert out.sentences[1][0] < menu_at < out.sentences[2][0]


def test_a_right_question_gets_yes_a_refused_name_is_spelled_and_a_misheard_number_typed() -> None:
    caller = CALLERS[1]  # wants sales, pauses mid-sentence
    assert caller.intent == "sales" and caller.pauses
    hearing = Scripted([
        None, "i want to buy",  # → "Is that about sales?"
        "yes",
        "my name is carol", "no",  # a wrong name, refused → "Please spell your first name"
        "r o b e r t", "yes",
        "no", "one two three four five six seven", "no",  # a misheard number, refused → typed
    ])  # fmt: skip
    out = render(caller, 2, {}, hearing, tuple(COMMON_NAMES), "+15551230000")
    answers = _answers(out.log)
    assert answers[1:3] == ["agent: Is that about sales, or something else?", "caller: yes"]
    assert "caller: my name is … robert" in answers and "caller: r, o, b, e, r, t" in answers
    assert [key for _, key in out.dtmf] == [*caller.number, "#"]
    assert out.lead["reason"] == "sales" and out.lead["name"] == "Robert"
    assert out.lead["callback_number"] == caller.number and out.lead["number_source"] == "dtmf"
    # sentences said with pauses are kept for the cut-off count: the need, the name, the number
    assert [pieces for _, _, pieces in out.sentences] == [2, 1, 2, 1, 1, 1, 1, 3, 1]

    # a call that was asked the predicted questions is in step, even when a word differs
    assert out.expects == ["intent", "yes_no", "name", "yes_no", "spelling", "yes_no", "yes_no", "digits", "yes_no"]
    entries = [{"speaker": "caller", "expect": e, "heard": h, "at_ms": 0, "audio_ms": 0}
               for e, h in zip(out.expects, out.heard, strict=True)]
    record = {"from": "+15551230001", "transcript": entries, "brain_summary": {"lead": out.lead}}
    worded = {**record, "transcript": [{**entries[0], "heard": "sales"}, *entries[1:]]}
    lost = {**record, "transcript": entries[:1] + entries[2:], "brain_summary": {"lead": {}}}
    result = analyse([record, worded, lost], [out, out]) | reply_latency._NO_RUN
    assert (result["in_step"], result["heard_as_predicted"], result["lead_as_predicted"]) == (2, 1, 2)
    assert "3 calls (2 in step, 1 heard word for word as predicted, 2 leads as predicted)" in reply_latency.line(result)
