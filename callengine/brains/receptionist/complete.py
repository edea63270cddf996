"""Is what the caller said so far already a complete answer to the question? (pure)

The turn detector offers the turn after a short pause (``TurnPaused``); the brain decodes it
with the question's grammar and asks the question's judge. A complete answer ends the turn at
once (~250 ms after the caller stopped instead of the full 700 ms pause); anything else waits
for the full pause, so a caller who pauses mid-sentence ("five five five … one two three") is
never cut off. A question without a judge always waits the full pause.

Judges are pluggable per ``Expect`` (``ReceptionistConfig.complete``):

- ``YES_NO``: a yes or a no was heard.
- ``DIGITS``: a whole North American number: ten digits, or eleven starting with 1 (a shorter
  string may be a number said in groups; it waits the full pause, and the dialogue takes seven
  or more then).
- ``INTENT``: not a judge of the hypothesis alone: the brain also decodes the candidate with the
  business's need model and asks ``Dialogue.need_complete`` (both decodes name the same intent,
  the agent would take it without asking, and the sentence does not stop on a word that leads
  on); ``ReceptionistConfig.complete_needs`` switches it off.
- ``NAME``: none. A bare name keyword after "my name is" cannot tell "sarah" from "sarah jane".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from callengine.brains.receptionist.grammars import Expect, read_digits, read_yes_no

__all__ = ["DEFAULT_JUDGES", "Judge", "digits_complete", "yes_no_complete"]

Judge = Callable[[str | None], bool]
NUMBER_DIGITS = 10  # a North American number (the dialogue speaks and confirms it so)


def yes_no_complete(hyp: str | None) -> bool:
    return read_yes_no(hyp) is not None


def digits_complete(hyp: str | None) -> bool:
    digits = read_digits(hyp)
    if digits.startswith("1"):
        return len(digits) == NUMBER_DIGITS + 1
    return len(digits) == NUMBER_DIGITS


DEFAULT_JUDGES: Mapping[Expect, Judge] = {
    Expect.YES_NO: yes_no_complete,
    Expect.DIGITS: digits_complete,
}
