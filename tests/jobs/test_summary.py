"""The offline call summary (``jobs.summary``, pure)."""

from __future__ import annotations

from jobs.summary import MAX_SUMMARY, caller_lines, guess_intent, offline_summary, slug

TRANSCRIPT = [
    {"speaker": "agent", "text": "Hello, Demo Plumbing, how can I help?"},
    {"speaker": "caller", "text": "Hi."},
    {"speaker": "caller", "text": None, "heard": "my kitchen sink is leaking under the cabinet"},
    {"speaker": "caller", "dtmf": "1"},
    {"role": "user", "text": "Yes. Can someone come tomorrow morning to fix it? Thanks!"},
    "not a turn",
]


def test_caller_lines_take_text_or_what_was_heard_and_skip_the_agent() -> None:
    assert caller_lines(TRANSCRIPT) == [
        "Hi.", "my kitchen sink is leaking under the cabinet", "Yes. Can someone come tomorrow morning to fix it? Thanks!",
    ]


def test_the_summary_leads_with_what_the_brain_captured_then_the_callers_words() -> None:
    brain = {"lead": {"name": "Sarah", "reason": "Repair visit", "callback_number": "+15551230000", "name_confirmed": True}}
    summary = offline_summary(TRANSCRIPT, brain)
    assert summary.text == (
        "Sarah called about Repair visit. Call back on +15551230000. "
        "Caller: \u201cmy kitchen sink is leaking under the cabinet\u201d "
        "Caller: \u201cCan someone come tomorrow morning to fix it?\u201d"
    )
    assert (summary.intent, summary.name, summary.source) == ("repair_visit", "Sarah", "offline")


def test_without_a_captured_reason_the_intent_is_guessed_from_keywords() -> None:
    summary = offline_summary(TRANSCRIPT, {})
    assert summary.intent == "support" and summary.name == ""  # "fix"
    assert summary.text.startswith("Caller: \u201cmy kitchen sink")
    assert guess_intent("I was charged twice on my invoice") == "billing"
    assert guess_intent("I'd like to book an appointment") == "appointment"
    assert guess_intent("how much is a new boiler") == "pricing"
    assert guess_intent("please cancel my plan") == "cancellation"
    assert guess_intent("hello there") == ""


def test_silence_gives_the_brains_line_or_says_so() -> None:
    assert offline_summary([], {"summary": "Unknown caller (caller hung up)"}).text == "Unknown caller (caller hung up)"
    assert offline_summary([{"speaker": "caller", "text": "ok thanks bye"}], {}).text == "No caller speech was recorded."


def test_the_summary_is_bounded() -> None:
    long = [{"speaker": "caller", "text": "word " * 400 + "."}] * 5
    text = offline_summary(long, {}).text
    assert MAX_SUMMARY - 5 < len(text) <= MAX_SUMMARY and text.endswith("\u2026")
    assert len(slug("x " * 100)) <= 64 and slug("  Billing / Refund!! ") == "billing_refund"
