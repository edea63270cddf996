"""Run N concurrent fake Twilio calls and collect the results (the trio shell).

Entry point for scripts: :func:`run_load_test`. Everything CPU-heavy (audio synthesis, JSON
serialisation, base64, voiced flags) happens in :func:`prepare_plans` *before* the first call
starts, so call setup during the ramp never stalls running calls.
"""

from __future__ import annotations

import gc
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import trio

from callengine.loadtest.client import FakeTwilioCall
from callengine.loadtest.config import DEFAULT_URL, LoadTestConfig
from callengine.loadtest.errors import ConfigError, WebhookError
from callengine.loadtest.metrics import CallMetrics, Outcome
from callengine.loadtest.plan import CallIds, SessionPlan, build_plan
from callengine.loadtest.procstats import ProcSample, cpu_seconds_self, sample_process
from callengine.loadtest.report import progress_line
from callengine.loadtest.scenarios import build_scenario
from callengine.loadtest.session import Session, load_session
from callengine.loadtest.slo import check_slos
from callengine.loadtest.stats import summarize
from callengine.loadtest.twiml import Endpoint, parse_endpoint, public_ws_url, sign, webhook_form
from callengine.loadtest.webhook import post_voice_webhook
from contracts.call_token import TOKEN_PARAMETER, mint_call_token

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["prepare_plans", "run_load_test"]

_PROGRESS_PERIOD_S: Final = 1.0
# Golden-ratio sequence: successive calls get well-spread media phases within one 20 ms frame.
_GOLDEN: Final = 0.6180339887498949
_FRAME_S: Final = 0.020


def prepare_plans(config: LoadTestConfig) -> list[SessionPlan]:
    """Load or synthesise the sessions and pre-build their frames (synchronous, CPU-bound).

    Raises:
        ConfigError: Bad scenario settings.
        SessionFormatError: A malformed session file.
        OSError: A session file cannot be read.
    """
    sessions: list[Session] = []
    for item in config.sessions:
        sessions.append(item if isinstance(item, Session) else load_session(Path(item)))
    if not sessions:
        sessions.append(
            build_scenario(
                config.scenario,
                duration_s=config.duration_s,
                speech_s=config.speech_s,
                pause_s=config.pause_s,
                seed=config.seed,
            )
        )
    return [build_plan(s, voiced_rms=config.voiced_rms) for s in sessions]


class _Tracker:
    """Counts calls through their life; marks the steady window (all calls resolved → first end)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.resolved = 0
        self.up = 0
        self.all_resolved = trio.Event()
        self.first_down = trio.Event()  # first call end *after* all calls resolved
        if total == 0:
            self.all_resolved.set()

    def call_resolved(self) -> None:
        self.resolved += 1
        if self.resolved >= self.total:
            self.all_resolved.set()

    def call_up(self) -> None:
        self.up += 1

    def call_down(self) -> None:
        self.up -= 1
        if self.all_resolved.is_set():
            self.first_down.set()


def _sid(rng: random.Random, prefix: str) -> str:
    return f"{prefix}{rng.getrandbits(128):032x}"


async def run_load_test(
    config: LoadTestConfig,
    *,
    plans: Sequence[SessionPlan] | None = None,
    progress_stream: TextIO | None = None,
) -> dict[str, Any]:
    """Play Twilio's side of ``config.calls`` concurrent calls and return the results dict.

    Args:
        config: Run settings.
        plans: Pre-built session plans (default: :func:`prepare_plans` of ``config``).
        progress_stream: Where the live progress line goes when ``config.progress``
            (default ``sys.stderr``).

    Returns:
        The results document (see the package docstring), including ``slo`` and ``metrics``.

    Raises:
        ConfigError: Invalid settings (bad URL, scenario …), before any call starts.

    Cancellation: cancelling the caller cancels every call; sockets are closed on the way out.
    Per-call failures never raise: they are counted as ``failed``/``refused``.
    """
    if config.calls < 0 or config.ramp_s < 0:
        raise ConfigError("calls and ramp must be non-negative")
    if plans is None:
        plans = prepare_plans(config)
    if not plans:
        raise ConfigError("no session to replay")
    if config.url is not None:
        parse_endpoint(config.url)  # fail fast on a bad URL
    rng = random.SystemRandom() if config.sid_seed is None else random.Random(config.sid_seed)
    account_sid = _sid(rng, "AC")
    ids = [CallIds(_sid(rng, "MZ"), _sid(rng, "CA"), account_sid) for _ in range(config.calls)]
    metrics = [CallMetrics(i, plans[i % len(plans)].name, ids[i].call_sid) for i in range(config.calls)]
    tracker = _Tracker(config.calls)
    server: dict[str, Any] | None = None
    gc.freeze()  # the plans are long-lived: keep them out of every cyclic-GC pass
    try:
        before = sample_process(config.server_pid) if config.server_pid else None
        cpu0 = cpu_seconds_self()
        t0 = trio.current_time()
        async with trio.open_nursery() as nursery:
            if config.progress:
                out = progress_stream or sys.stderr
                nursery.start_soon(_progress_loop, metrics, tracker, t0, out, name="loadtest:progress")
            if config.server_pid:
                server = {"pid": config.server_pid}
                nursery.start_soon(_server_monitor, config.server_pid, tracker, before, server, name="loadtest:server")
            async with trio.open_nursery() as calls:
                for i in range(config.calls):
                    await trio.sleep_until(t0 + i * config.ramp_s)
                    phase = ((i * _GOLDEN) % 1.0) * _FRAME_S if config.phase_spread else 0.0
                    calls.start_soon(
                        _one_call,
                        config,
                        plans[i % len(plans)],
                        ids[i],
                        metrics[i],
                        tracker,
                        phase,
                        name=f"loadtest:call:{i}",
                    )
            nursery.cancel_scope.cancel()
        wall = trio.current_time() - t0
        harness_cpu = cpu_seconds_self() - cpu0
        if config.progress:
            out = progress_stream or sys.stderr
            out.write(progress_line(metrics, tracker.up, config.calls, wall) + "\n")
            out.flush()
    finally:
        gc.unfreeze()
    if server is not None and before is not None:
        after = sample_process(config.server_pid) if config.server_pid else None
        if after is not None:
            server["run_cpu_percent"] = round((after.cpu_s - before.cpu_s) / wall * 100.0, 2) if wall > 0 else None
    results = summarize(
        metrics,
        config=config.describe(),
        wall_s=wall,
        server=server,
        harness={
            "cpu_s": round(harness_cpu, 3),
            "cpu_percent": round(harness_cpu / wall * 100.0, 2) if wall > 0 else None,
        },
    )
    checks = check_slos(config.slos, results["metrics"])
    results["slo"] = {
        "ok": all(c.ok for c in checks),
        "checks": [
            {"key": c.spec.key, "op": c.spec.op, "target": c.spec.target, "actual": c.actual, "ok": c.ok}
            for c in checks
        ],
        "violated": [c.describe() for c in checks if not c.ok],
    }
    return results


async def _one_call(
    config: LoadTestConfig,
    plan: SessionPlan,
    ids: CallIds,
    m: CallMetrics,
    tracker: _Tracker,
    phase_s: float,
) -> None:
    resolved = False

    def fail(reason: str) -> None:
        m.outcome, m.fail_reason = Outcome.FAILED, reason

    try:
        params = {**plan.custom_parameters, **config.params}
        connect_url = config.url or DEFAULT_URL
        public_url = config.public_url or public_ws_url(connect_url)
        if config.twiml_url:
            form = webhook_form(ids.call_sid, ids.account_sid, config.from_number, config.to_number)
            t = trio.current_time()
            try:
                hook = await post_voice_webhook(
                    config.twiml_url, form, auth_token=config.auth_token, timeout_s=config.connect_timeout_s
                )
            except WebhookError as exc:
                if exc.status is not None and exc.status >= 400:  # the API answered: a refusal, not a fault
                    m.outcome, m.refused_status = Outcome.REFUSED, exc.status
                    m.refused_reason = f"webhook HTTP {exc.status}"
                    return None
                return fail(f"webhook: {exc}")
            except (OSError, trio.TooSlowError) as exc:
                return fail(f"webhook: {type(exc).__name__}: {exc}")
            m.webhook_ms = (trio.current_time() - t) * 1000.0
            answer = hook.answer
            if answer.reject_reason is not None or answer.stream_url is None:
                m.outcome = Outcome.REFUSED
                m.refused_reason = f"<Reject reason={answer.reject_reason}>"
                return None
            params.update(answer.parameters)
            public_url = config.public_url or answer.stream_url
            connect_url = config.url or answer.stream_url
        if config.token_secret:
            params[TOKEN_PARAMETER] = mint_call_token(config.token_secret, ids.call_sid)
        try:
            endpoint: Endpoint = parse_endpoint(connect_url)
        except ConfigError as exc:
            return fail(str(exc))
        if endpoint.scheme == "wss":
            return fail(f"cannot open {connect_url} (no TLS in the harness); pass --url ws://…")
        headers = {"X-Twilio-Signature": sign(config.auth_token, public_url)} if config.auth_token else {}
        call = FakeTwilioCall(
            metrics=m,
            plan=plan,
            ids=ids,
            endpoint=endpoint,
            headers=headers,
            custom_parameters=params,
            tracker=tracker,
            connect_timeout_s=config.connect_timeout_s,
            close_timeout_s=config.close_timeout_s,
            barge_in_timeout_s=config.barge_in_timeout_s,
            media_phase_s=phase_s,
        )
        resolved = True  # from here the call reports its own resolution
        await call.run()
    finally:
        if not resolved:
            tracker.call_resolved()


async def _progress_loop(metrics: Sequence[CallMetrics], tracker: _Tracker, t0: float, out: TextIO) -> None:
    end = "\r" if getattr(out, "isatty", lambda: False)() else "\n"
    while True:
        await trio.sleep(_PROGRESS_PERIOD_S)
        out.write(progress_line(metrics, tracker.up, tracker.total, trio.current_time() - t0) + end)
        out.flush()


async def _server_monitor(pid: int, tracker: _Tracker, before: ProcSample | None, out: dict[str, Any]) -> None:
    """Sample the server over the steady window: all calls resolved → first call ends."""
    sample: Callable[[int], ProcSample | None] = sample_process
    out["rss_before_kb"] = before.rss_kb if before else None
    await tracker.all_resolved.wait()
    a, ta, calls_up = sample(pid), trio.current_time(), tracker.up
    if a is None or before is None:
        out["error"] = "cannot read /proc for the server pid"
        return
    out.update(rss_steady_kb=a.rss_kb, calls_in_window=calls_up)
    out["rss_per_call_kb"] = round((a.rss_kb - before.rss_kb) / calls_up, 1) if calls_up else None
    await tracker.first_down.wait()
    b, tb = sample(pid), trio.current_time()
    window = tb - ta
    out["steady_window_s"] = round(window, 3)
    if b is None or window <= 0 or not calls_up:
        out["error"] = "no steady window (a call ended before all calls were up)"
        return
    cpu = b.cpu_s - a.cpu_s
    out["cpu_percent"] = round(cpu / window * 100.0, 2)
    out["cpu_us_per_call_s"] = round(cpu * 1e6 / (calls_up * window), 1)
