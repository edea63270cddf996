"""CallSids are fresh on every run (records never collide); ``--sid-seed`` makes them repeat.

A run's calls go to a closed port so they fail at once; the SIDs they were given are in the
results' ``per_call`` rows either way.
"""

from __future__ import annotations

import socket

import trio

from callengine.loadtest import LoadTestConfig, run_load_test
from callengine.loadtest.__main__ import build_parser, config_from_args

__all__: list[str] = []


def _call_sids(**options: object) -> list[str]:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    config = LoadTestConfig(url=f"ws://127.0.0.1:{port}/ws/twilio", calls=3, scenario="silence", duration_s=0.2,
                            ramp_s=0, **options)  # type: ignore[arg-type]
    results = trio.run(run_load_test, config)
    return [row["call_sid"] for row in results["per_call"]]


def test_repeated_runs_with_the_same_audio_seed_get_fresh_call_sids() -> None:
    first, second = _call_sids(seed=0), _call_sids(seed=0)
    assert len(set(first)) == 3 and not set(first) & set(second)
    assert all(sid.startswith("CA") and len(sid) == 34 for sid in first + second)


def test_sid_seed_repeats_the_sids_and_the_audio_seed_does_not_choose_them() -> None:
    assert _call_sids(sid_seed=7) == _call_sids(sid_seed=7, seed=1)
    assert _call_sids(sid_seed=7) != _call_sids(sid_seed=8)


def test_cli_defaults_to_random_sids_with_seed_0() -> None:
    config = config_from_args(build_parser().parse_args([]))
    assert (config.seed, config.sid_seed) == (0, None)
    assert config_from_args(build_parser().parse_args(["--sid-seed", "5"])).sid_seed == 5
