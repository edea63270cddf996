"""The pure broadcast pacer: rate with jitter, daily cap in the business's zone, warm-up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from jobs.broadcasts.pacer import PacerSettings, PacerState, day_start, decide, settings_from, zone

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_the_first_send_goes_at_once() -> None:
    d = decide(PacerSettings(), PacerState(None, 0), NOW, UTC, random.Random(1))
    assert d.send_now and d.reason == ""


def test_the_gap_is_sixty_over_rate_with_jitter_and_seeded() -> None:
    settings = PacerSettings(per_minute=20, jitter=0.3)
    state = PacerState(last_sent_at=NOW, sent_today=1)
    waits = [(decide(settings, state, NOW, UTC, random.Random(seed)).wait_until - NOW).total_seconds()  # type: ignore[operator]
             for seed in range(200)]
    assert all(3 * 0.7 <= w <= 3 * 1.3 for w in waits)
    assert len({round(w, 3) for w in waits}) > 100  # really random, not a constant interval
    again = decide(settings, state, NOW, UTC, random.Random(7)).wait_until
    assert again == decide(settings, state, NOW, UTC, random.Random(7)).wait_until  # seeded: repeatable


def test_a_send_due_in_the_past_goes_now() -> None:
    state = PacerState(last_sent_at=NOW - timedelta(seconds=10), sent_today=5)
    assert decide(PacerSettings(per_minute=20), state, NOW, UTC, random.Random(0)).send_now


def test_pacing_off_sends_back_to_back() -> None:
    state = PacerState(last_sent_at=NOW, sent_today=10_000, linked_at=NOW)
    assert decide(PacerSettings(per_minute=0, daily_cap=0), state, NOW, UTC, random.Random(0)).send_now


def test_the_daily_cap_waits_for_local_midnight() -> None:
    tz = zone("Asia/Jerusalem")  # UTC+2 in December: local midnight is 22:00 UTC
    d = decide(PacerSettings(daily_cap=100), PacerState(NOW, 100), NOW, tz, random.Random(3))
    assert d.reason == "daily_cap"
    assert datetime(2026, 12, 6, 22, 0, tzinfo=UTC) <= d.wait_until <= datetime(2026, 12, 6, 22, 10, tzinfo=UTC)  # type: ignore[operator]
    assert decide(PacerSettings(daily_cap=100), PacerState(None, 99), NOW, tz, random.Random(3)).send_now


def test_day_start_is_counted_in_the_business_zone() -> None:
    assert day_start(NOW, zone("Asia/Jerusalem")) == datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    assert day_start(NOW, zone("Not/AZone")) == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)  # unknown: UTC


def test_a_newly_linked_number_is_slower_and_capped_lower() -> None:
    settings = PacerSettings(per_minute=30, jitter=0, daily_cap=1000, warmup_days=7, warmup_per_minute=2,
                             warmup_daily_cap=50)
    new = PacerState(last_sent_at=NOW, sent_today=10, linked_at=NOW - timedelta(days=2))
    assert decide(settings, new, NOW, UTC, random.Random(0)).wait_until == NOW + timedelta(seconds=30)
    assert decide(settings, PacerState(NOW, 50, NOW - timedelta(days=2)), NOW, UTC, random.Random(0)).reason == "daily_cap"
    old = PacerState(last_sent_at=NOW, sent_today=50, linked_at=NOW - timedelta(days=8))
    assert decide(settings, old, NOW, UTC, random.Random(0)).wait_until == NOW + timedelta(seconds=2)


def test_settings_env_then_business_overrides() -> None:
    s = settings_from({"BROADCAST_PER_MINUTE": "12", "BROADCAST_DAILY_CAP": "300"}, {"per_minute": 6, "jitter": "x"})
    assert (s.per_minute, s.daily_cap, s.jitter) == (6.0, 300, 0.3)
    with pytest.raises(ValueError, match="BROADCAST_DAILY_CAP"):
        settings_from({"BROADCAST_DAILY_CAP": "1.5"})
    with pytest.raises(ValueError, match="BROADCAST_JITTER"):
        settings_from({"BROADCAST_JITTER": "abc"})
    assert settings_from({}, {"per_minute": -1}).per_minute == 20.0  # a bad override is ignored
