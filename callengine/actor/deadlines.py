"""The call's two deadlines, as a pure decision (no trio: times are plain floats).

The ``report`` task asks once a second (``REPORT_INTERVAL``), so a deadline is noticed at
most that much late:

- **inbound silence**: no media frame for ``silence_seconds``. Twilio sends a frame every
  20 ms for as long as the call is up, silent caller or not, so a gap means the stream is dead
  (a quiet caller is not silence here: see tests/fixtures/twilio/long_silence.jsonl).
- **maximum length**: the call has lasted ``max_seconds`` since its ``start``.

Silence is checked first: a dead stream is the more precise reason. Both are strict
("more than"), so a deadline of 5 s fires at the first check after 5 s have passed.
"""

from __future__ import annotations

from callengine.actor.transport import Ending
from callengine.events import CloseCode, EndReason

__all__ = ["deadline_ending"]


def deadline_ending(
    now: float,
    *,
    last_media: float,
    started_at: float,
    silence_seconds: float,
    max_seconds: float,
) -> Ending | None:
    """How the call ends at ``now`` because a deadline passed, or None while none has.

    Args:
        now: the current time (the actor passes ``trio.current_time()``).
        last_media: when the last inbound media frame arrived (or the start, before any).
        started_at: when the ``start`` event arrived.
        silence_seconds: the inbound silence deadline.
        max_seconds: the maximum call length.
    """
    if now - last_media > silence_seconds:
        return Ending(
            EndReason.INBOUND_SILENCE,
            CloseCode.INBOUND_SILENCE,
            f"no inbound audio for {silence_seconds:g} s",
        )
    if now - started_at > max_seconds:
        return Ending(
            EndReason.MAX_DURATION, CloseCode.MAX_DURATION, f"call longer than {max_seconds:g} s"
        )
    return None
