"""``python -m callengine.loadtest``: N concurrent fake Twilio calls against a ws:// URL.

Examples::

    python -m callengine.loadtest --calls 50 --scenario talk --duration 20 --server-pid $PID \\
        --slo failed=0 --slo underruns_per_min=0 --slo barge_in_p99_ms=250 --slo lateness_p99_ms=5
    python -m callengine.loadtest --calls 10 --session tests/fixtures/twilio/dtmf_menu.jsonl \\
        --auth-token "$TWILIO_AUTH_TOKEN" --token-secret "$INTERNAL_SECRET" --json out.json

Exit status: 0 when no call was refused or failed and every ``--slo`` holds; 1 otherwise (one
line on stderr says why and what to change); 2 on invalid options.
On a 2-core machine pin the server and the harness to different cores (``taskset -c 1`` or
``--pin-cpu 1``), and repeat each level a few times: tails vary between identical runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

import orjson
import trio

from callengine.loadtest.config import DEFAULT_URL, LoadTestConfig
from callengine.loadtest.errors import LoadTestError
from callengine.loadtest.report import format_summary, verdict
from callengine.loadtest.runner import prepare_plans, run_load_test
from callengine.loadtest.scenarios import SCENARIOS
from callengine.loadtest.slo import HIGHER_IS_BETTER, parse_slo
from callengine.loadtest.stats import METRIC_KEYS, METRIC_MEANINGS

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "config_from_args", "main"]


def _slo_epilog() -> str:
    width = max(map(len, METRIC_KEYS))
    keys = "\n".join(f"  {key:<{width}}  {METRIC_MEANINGS[key]}" for key in METRIC_KEYS)
    higher = ", ".join(key for key in METRIC_KEYS if key in HIGHER_IS_BETTER)
    return (
        "--slo keys (KEY=VALUE is an upper bound for latencies and bad counts, a lower bound for\n"
        f"{higher}; KEY<=VALUE / KEY>=VALUE force it):\n"
        f"{keys}\n\n"
        "Exit status: 0 when no call was refused or failed and every --slo holds; 1 otherwise (one line on\n"
        "stderr says why and what to change); 2 on invalid options."
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the CLI parser (``--help`` lists the ``--slo`` keys and what each measures)."""
    p = argparse.ArgumentParser(
        prog="python -m callengine.loadtest",
        description=__doc__.split("\n\n")[0],
        epilog=_slo_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--url", default=None, help=f"WebSocket target (default {DEFAULT_URL}; with --twiml-url: the <Stream url>)"
    )
    p.add_argument("--calls", type=int, default=1, help="concurrent calls (default 1)")
    p.add_argument("--ramp", type=float, default=0.01, help="seconds between call starts (default 0.01)")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--session", action="append", default=[], metavar="FILE", help="session JSONL; repeatable, calls cycle"
    )
    src.add_argument("--scenario", choices=SCENARIOS, default="talk", help="synthetic caller (default talk)")
    p.add_argument("--duration", type=float, default=10.0, help="synthetic call length in seconds (default 10)")
    p.add_argument("--speech", type=float, default=1.4, help="talk: utterance seconds (default 1.4)")
    p.add_argument("--pause", type=float, default=1.4, help="talk: pause seconds (default 1.4)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="custom parameter; repeatable")
    p.add_argument("--auth-token", help="Twilio auth token: send X-Twilio-Signature")
    p.add_argument("--public-url", help="URL to sign (default: target with ws→wss, http→https)")
    p.add_argument("--token-secret", help="mint the per-call 'token' parameter with this secret")
    p.add_argument("--twiml-url", help="POST a signed voice webhook here first and follow its TwiML")
    p.add_argument("--from", dest="from_number", default="+15005550006", help="webhook From")
    p.add_argument("--to", dest="to_number", default="+15005550001", help="webhook To")
    p.add_argument("--server-pid", type=int, help="measure this process's CPU and RSS")
    p.add_argument("--json", metavar="PATH", help="write the full results here")
    p.add_argument("--quiet", action="store_true", help="no live progress line")
    p.add_argument(
        "--slo", action="append", default=[], metavar="KEY=VALUE", help="objective; repeatable (exit 1 if violated)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed for synthetic audio and noise (default 0)")
    p.add_argument(
        "--sid-seed",
        type=int,
        metavar="N",
        help="reproducible CallSids/StreamSids (default: fresh random SIDs every run, so records never collide)",
    )
    p.add_argument("--voiced-rms", type=int, default=300, help="RMS threshold of a voiced frame (default 300)")
    p.add_argument("--pin-cpu", type=int, metavar="CPU", help="pin the harness to this CPU (Linux)")
    return p


def config_from_args(args: argparse.Namespace) -> LoadTestConfig:
    """Turn parsed options into a :class:`LoadTestConfig`.

    Raises:
        LoadTestError: On a malformed ``--param`` or ``--slo``.
    """
    params: dict[str, str] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise LoadTestError(f"--param {item!r}: expected NAME=VALUE")
        params[name] = value
    return LoadTestConfig(
        url=args.url,
        calls=args.calls,
        ramp_s=args.ramp,
        sessions=tuple(args.session),
        scenario=args.scenario,
        duration_s=args.duration,
        speech_s=args.speech,
        pause_s=args.pause,
        params=params,
        auth_token=args.auth_token,
        public_url=args.public_url,
        token_secret=args.token_secret,
        twiml_url=args.twiml_url,
        from_number=args.from_number,
        to_number=args.to_number,
        server_pid=args.server_pid,
        seed=args.seed,
        sid_seed=args.sid_seed,
        voiced_rms=args.voiced_rms,
        progress=not args.quiet,
        slos=tuple(parse_slo(s, METRIC_KEYS) for s in args.slo),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        if args.pin_cpu is not None:
            os.sched_setaffinity(0, {args.pin_cpu})
        plans = prepare_plans(config)
        results = trio.run(lambda: run_load_test(config, plans=plans))
    except (LoadTestError, OSError) as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    if args.json:
        with open(args.json, "wb") as fh:
            fh.write(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(format_summary(results))
    why = verdict(results)
    if why is None:
        return 0
    print(f"loadtest: FAILED: {why}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
