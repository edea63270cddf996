"""The worker's settings: RQ_QUEUES (priority order, never the dead-letter queue), the intervals
that bound the abandoned-job delay, and the stop grace period the docs promise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts.jobs import JOB_SPECS
from jobs.worker_settings import (
    SettingsError,
    WorkerSettings,
    abandoned_bound_seconds,
    longest_timeout,
    parse_queues,
    stop_grace_seconds,
)

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]


def test_defaults() -> None:
    settings = WorkerSettings.from_env({})
    assert settings.queues == ("high", "default", "low", "broadcasts")
    assert settings.redis_url == "redis://127.0.0.1:6379/0" and settings.log_level == "INFO"


def test_queues_keep_the_order_given() -> None:
    assert WorkerSettings.from_env({"RQ_QUEUES": " low , high"}).queues == ("low", "high")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("high,failed", "'failed' is the dead-letter queue, which no worker consumes; valid: high, default, low, broadcasts"),
        ("high,urgent", "unknown queue 'urgent'; valid: high, default, low, broadcasts"),
        ("high,,low", "expected a comma-separated list of queues from: high, default, low, broadcasts"),
        ("high,high", "a queue is named twice"),
    ],
)
def test_bad_queue_lists_are_refused_naming_the_valid_ones(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_queues(raw)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(SettingsError) as err:
        WorkerSettings.from_env({"RQ_QUEUES": "failed", "REDIS_URL": "http://x", "LOG_LEVEL": "loud",
                                 "WORKER_MAINTENANCE_INTERVAL_SECONDS": "0"})
    text = str(err.value)
    for name in ("RQ_QUEUES", "REDIS_URL", "LOG_LEVEL", "WORKER_MAINTENANCE_INTERVAL_SECONDS"):
        assert name in text


def test_a_grace_shorter_than_the_heartbeat_is_refused() -> None:
    with pytest.raises(SettingsError, match="WORKER_ABANDONED_GRACE_SECONDS: must be at least"):
        WorkerSettings.from_env({"WORKER_JOB_MONITORING_INTERVAL_SECONDS": "20", "WORKER_ABANDONED_GRACE_SECONDS": "10"})


def test_the_abandoned_job_bound_is_the_documented_one() -> None:
    bound = abandoned_bound_seconds(WorkerSettings())
    assert bound == 10 + 30 + 60
    for doc in ("docs/ARCHITECTURE.md", "README.md"):
        assert f"within {bound} s" in " ".join((ROOT / doc).read_text().split()), doc


def test_the_stop_grace_period_exceeds_the_longest_job_timeout() -> None:
    assert longest_timeout() == max(spec.timeout_seconds for spec in JOB_SPECS.values())
    assert stop_grace_seconds() > longest_timeout()
    for doc in ("docs/ARCHITECTURE.md", "README.md"):
        text = " ".join((ROOT / doc).read_text().split())
        assert f"stop_grace_period: {stop_grace_seconds()}s" in text, doc


def test_preload_is_on_unless_turned_off_and_a_bad_value_is_named() -> None:
    assert WorkerSettings.from_env({}).preload is True
    assert WorkerSettings.from_env({"WORKER_PRELOAD": "0"}).preload is False
    with pytest.raises(SettingsError, match="WORKER_PRELOAD"):
        WorkerSettings.from_env({"WORKER_PRELOAD": "maybe"})
