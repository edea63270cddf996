"""Load-testing harness: plays Twilio's side of N concurrent Media Streams calls.

Run it as ``python -m callengine.loadtest`` (see ``--help``) or from Python::

    results = trio.run(run_load_test, LoadTestConfig(url="ws://127.0.0.1:5050/ws/twilio", calls=50))

The harness is built to be much cheaper than the server under test (docs/ARCHITECTURE.md
§13): raw trio sockets, its own HTTP/1.1 upgrade and RFC 6455 framing,
frames pre-built before the first call, server frames inspected by header and ``bytes.find``.

Results schema (``run_load_test`` return value and ``--json`` file):

* ``version``, ``config`` (settings echo, secrets as booleans), ``wall_s``
* ``calls``: ``attempted connected completed refused failed refused_by_status refused_reasons
  retry_after failed_by_reason failures[] call_minutes``
* ``connect_ms``, ``webhook_ms``: ``{n p50 p99 max}``
* ``inbound``: ``media_sent dtmf_sent messages_sent lateness_ms{n p50 p99 p99.9 max}``
* ``outbound``: ``media bytes audio_s marks clears other_events unknown_events binary_frames
  wrong_stream_sid pings underruns underrun_ms underruns_per_min lead_ms{n p1 p50 p99}
  pacing_error_ms{n p50 p99 max} first_audio_ms{n p50 p99}``
* ``marks``: ``received echoed hold_ms{n p50 p99 max}``
* ``barge_in``: ``onsets during_playback cleared missed latency_ms{n p50 p99 max}``
  (``lead_ms`` and ``pacing_error_ms`` are sampled at chunks *within* an utterance — previous
  chunk < 1 s earlier, no mark/clear in between — since an utterance's first chunk always
  finds an empty buffer; underruns use the same rule.)
* ``server`` (with ``server_pid``, else null): ``pid rss_before_kb rss_steady_kb calls_in_window
  rss_per_call_kb steady_window_s cpu_percent cpu_us_per_call_s run_cpu_percent [error]``
* ``harness``: ``cpu_s cpu_percent``
* ``per_call[]``: one compact row per call
* ``metrics``: flat ``{key: number|null}`` — the ``--slo`` key space
* ``slo``: ``ok checks[{key op target actual ok}] violated[]``
"""

from __future__ import annotations

from callengine.loadtest.config import DEFAULT_URL, LoadTestConfig
from callengine.loadtest.errors import (
    ConfigError,
    LoadTestError,
    SessionFormatError,
    WebhookError,
    WebSocketProtocolError,
)
from callengine.loadtest.plan import SessionPlan, build_plan
from callengine.loadtest.playback import PlaybackModel
from callengine.loadtest.report import format_summary
from callengine.loadtest.runner import prepare_plans, run_load_test
from callengine.loadtest.scenarios import SCENARIOS, build_scenario
from callengine.loadtest.session import (
    Session,
    SessionEvent,
    build_session,
    dump_session,
    load_session,
    parse_session,
)
from callengine.loadtest.slo import SloSpec, check_slos, parse_slo

__all__ = [
    "DEFAULT_URL",
    "SCENARIOS",
    "ConfigError",
    "LoadTestConfig",
    "LoadTestError",
    "PlaybackModel",
    "Session",
    "SessionEvent",
    "SessionFormatError",
    "SessionPlan",
    "SloSpec",
    "WebSocketProtocolError",
    "WebhookError",
    "build_plan",
    "build_scenario",
    "build_session",
    "check_slos",
    "dump_session",
    "format_summary",
    "load_session",
    "parse_session",
    "parse_slo",
    "prepare_plans",
    "run_load_test",
]
