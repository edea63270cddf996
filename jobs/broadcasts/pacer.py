"""The per-business send pacer: pure arithmetic, no I/O, so every rule is tested with a clock
and a seeded random generator.

Rules (docs/ARCHITECTURE.md §5):

* **Rate**: at most ``per_minute`` messages a minute for one business (one WhatsApp number),
  whatever number of broadcasts or workers: the gap after a send is ``60 / per_minute`` seconds
  times a random factor in ``[1 - jitter, 1 + jitter]`` (constant intervals look like a bot).
  ``per_minute = 0`` turns pacing off (tests, benchmarks).
* **Daily cap**: at most ``daily_cap`` sends per calendar day *in the business's time zone*
  (``business.timezone``; an unknown zone counts in UTC); 0 = no cap. Once reached, the answer is
  "wait until the next local midnight" (plus jitter, so all capped businesses do not start at once).
* **Warm-up**: for the first ``warmup_days`` days after the number was linked, the rate is
  ``warmup_per_minute`` and the cap ``warmup_daily_cap`` (the stricter of these and the normal
  ones). An unknown link date counts as warm.

Settings come from ``business.brain_settings["broadcasts"]`` (keys as ``PacerSettings``' fields,
plus ``linked_at`` as ISO text) over the env defaults ``BROADCAST_PER_MINUTE`` (20),
``BROADCAST_JITTER`` (0.3), ``BROADCAST_DAILY_CAP`` (1000), ``BROADCAST_WARMUP_DAYS`` (7),
``BROADCAST_WARMUP_PER_MINUTE`` (4), ``BROADCAST_WARMUP_DAILY_CAP`` (50).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Decision", "PacerSettings", "PacerState", "decide", "day_start", "settings_from", "zone"]


@dataclass(frozen=True, slots=True)
class PacerSettings:
    per_minute: float = 20.0
    jitter: float = 0.3
    daily_cap: int = 1000
    warmup_days: int = 7
    warmup_per_minute: float = 4.0
    warmup_daily_cap: int = 50

    def __post_init__(self) -> None:
        if self.per_minute < 0 or self.warmup_per_minute < 0:
            raise ValueError("per_minute and warmup_per_minute must be >= 0")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.daily_cap < 0 or self.warmup_daily_cap < 0 or self.warmup_days < 0:
            raise ValueError("daily caps and warmup_days must be >= 0")


@dataclass(frozen=True, slots=True)
class PacerState:
    """What the job reads before each send: the business's last send and today's count."""

    last_sent_at: datetime | None
    sent_today: int
    linked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """``wait_until`` None means send now; ``reason`` says why not ("rate", "daily_cap")."""

    wait_until: datetime | None
    reason: str = ""

    @property
    def send_now(self) -> bool:
        return self.wait_until is None


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def day_start(now: datetime, tz: tzinfo) -> datetime:
    """The start of ``now``'s calendar day in ``tz``, as an aware UTC datetime."""
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _next_day_start(now: datetime, tz: tzinfo) -> datetime:
    local = now.astimezone(tz)
    tomorrow = (local + timedelta(days=1)).date()
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=tz).astimezone(UTC)


def _effective(settings: PacerSettings, state: PacerState, now: datetime) -> tuple[float, int]:
    rate, cap = settings.per_minute, settings.daily_cap
    warming = (
        state.linked_at is not None and settings.warmup_days > 0
        and now < state.linked_at + timedelta(days=settings.warmup_days)
    )
    if warming and rate > 0:  # pacing off (rate 0) stays off: tests and benchmarks
        rate = min(rate, settings.warmup_per_minute) if settings.warmup_per_minute > 0 else rate
        cap = min(cap, settings.warmup_daily_cap) if cap > 0 else settings.warmup_daily_cap
    return rate, cap


def decide(settings: PacerSettings, state: PacerState, now: datetime, tz: tzinfo, rng: random.Random) -> Decision:
    """Send now, or wait until a time (UTC)."""
    rate, cap = _effective(settings, state, now)
    if cap > 0 and state.sent_today >= cap:
        spread = timedelta(seconds=rng.uniform(0, 600))  # up to 10 min after midnight
        return Decision(_next_day_start(now, tz) + spread, "daily_cap")
    if rate <= 0 or state.last_sent_at is None:
        return Decision(None)
    gap = 60.0 / rate * rng.uniform(1 - settings.jitter, 1 + settings.jitter)
    due = state.last_sent_at + timedelta(seconds=gap)
    return Decision(None) if due <= now else Decision(due, "rate")


_ENV = {
    "per_minute": "BROADCAST_PER_MINUTE",
    "jitter": "BROADCAST_JITTER",
    "daily_cap": "BROADCAST_DAILY_CAP",
    "warmup_days": "BROADCAST_WARMUP_DAYS",
    "warmup_per_minute": "BROADCAST_WARMUP_PER_MINUTE",
    "warmup_daily_cap": "BROADCAST_WARMUP_DAILY_CAP",
}


def _number(value: object, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number, got {value!r}")
    number = float(value)
    if kind is int:
        if number != int(number):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(number)
    return number


def settings_from(env: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> PacerSettings:
    """The env defaults, then the business's overrides (``brain_settings["broadcasts"]``).

    A bad env value raises ValueError (the worker refuses to run the job with it); a bad
    business override is ignored (the env value stays) so one business's typo stops nobody.
    """
    base = PacerSettings()
    kinds = {f.name: (int if f.type in ("int", int) else float) for f in fields(PacerSettings)}
    values: dict[str, Any] = {}
    for name, var in _ENV.items():
        if env.get(var, "").strip():
            try:
                values[name] = _number(env[var].strip(), kinds[name])
            except ValueError as exc:
                raise ValueError(f"{var}: {exc}") from None
    result = replace(base, **values)
    for name, value in (overrides or {}).items():
        if name in kinds:
            try:
                result = replace(result, **{name: _number(value, kinds[name])})
            except ValueError:
                continue
    return result
