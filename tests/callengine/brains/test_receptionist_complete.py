"""Which answers are complete at a short pause (the early end of turn) and which wait."""

from __future__ import annotations

import pytest

from callengine.brains.receptionist.complete import DEFAULT_JUDGES, digits_complete, yes_no_complete
from callengine.brains.receptionist.grammars import Expect


@pytest.mark.parametrize(("hyp", "complete"), [
    ("yes", True), ("no", True), ("yeah that's right", True), ("no that's wrong", True),
    (None, False), ("", False), ("that's", False),
])
def test_yes_or_no_is_complete(hyp: str | None, complete: bool) -> None:
    assert yes_no_complete(hyp) is complete


@pytest.mark.parametrize(("hyp", "complete"), [
    ("two oh six five five five oh one nine eight", True),  # ten digits
    ("one two oh six five five five oh one nine eight", True),  # 1 + ten
    ("five five five", False),  # a first group: the caller goes on
    ("five five five one two three", False),
    ("one two oh six five five five oh one nine", False),  # 1 + nine: one more to come
    ("two oh six five five five oh one nine eight seven", False),  # eleven, not 1-led
    (None, False),
])
def test_digits_are_complete_at_the_expected_length(hyp: str | None, complete: bool) -> None:
    assert digits_complete(hyp) is complete


def test_intent_and_name_wait_for_the_full_pause_by_default() -> None:
    assert set(DEFAULT_JUDGES) == {Expect.YES_NO, Expect.DIGITS}
