"""Command-line parsing and the exit status."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest

from callengine.loadtest.__main__ import build_parser, config_from_args, main
from callengine.loadtest.errors import LoadTestError

if TYPE_CHECKING:
    from pathlib import Path


def test_options_become_a_config() -> None:
    args = build_parser().parse_args(
        ["--calls", "5", "--ramp", "0.02", "--param", "tenant=t1", "--param", "x=a=b", "--slo", "failed=0",
         "--slo", "connected=5", "--auth-token", "tok", "--quiet", "--scenario", "dtmf"]
    )  # fmt: skip
    config = config_from_args(args)
    assert (config.calls, config.ramp_s, config.scenario, config.progress) == (5, 0.02, "dtmf", False)
    assert config.params == {"tenant": "t1", "x": "a=b"}
    assert [str(s) for s in config.slos] == ["failed<=0", "connected>=5"]
    assert "tok" not in repr(config)


@pytest.mark.parametrize("argv", [["--param", "novalue"], ["--slo", "bogus_key=1"]])
def test_bad_options_are_rejected(argv: list[str]) -> None:
    with pytest.raises(LoadTestError):
        config_from_args(build_parser().parse_args(argv))


def test_main_exit_status_follows_slos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    base = ["--calls", "0", "--scenario", "silence", "--duration", "0.2", "--quiet", "--json", str(out)]
    assert main([*base, "--slo", "failed=0"]) == 0
    assert orjson.loads(out.read_bytes())["calls"]["attempted"] == 0
    assert main([*base, "--slo", "connected=1"]) == 1
    assert "VIOLATED: connected=0 (want >=1)" in capsys.readouterr().out
    assert main(["--session", str(tmp_path / "missing.jsonl"), "--calls", "0"]) == 2
