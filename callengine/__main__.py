"""``python -m callengine``: the composition root of the calls service.

Reads the settings, builds admission, the Redis reporter, the call-setup reader and the brain
factory, and serves until SIGTERM/SIGINT. The first signal drains (health turns ``draining``, new calls get 503,
live calls continue up to DRAIN_TIMEOUT_SECONDS, then are closed with 1001 and finalized);
a second signal ends the remaining calls at once.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
from collections.abc import Sequence

import trio

from callengine import __version__
from callengine.admission import Admission
from callengine.brains import brain_factory
from callengine.brains.setup_store import RedisCallSetup
from callengine.errors import SettingsError
from callengine.logs import configure_logging
from callengine.reporting.redis_reporter import open_redis_reporter
from callengine.server.serve import EngineDeps, serve_calls
from callengine.settings import Settings
from callengine.stats import EngineStats

log = logging.getLogger("callengine")

# Python's cyclic GC pauses the whole loop; with ~1,000 long-lived objects per call and many
# short-lived ones per frame, collecting gen 0 rarely (and never scanning start-up objects)
# keeps pauses far below the outbound audio lead.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def run(settings: Settings) -> None:
    admission = Admission(settings.max_concurrent_calls, settings.max_pending_starts)
    stats = EngineStats()
    setups = RedisCallSetup(settings.redis_url)  # the one reader of call setups (composition root)
    try:
        async with open_redis_reporter(settings, admission, version=__version__) as reporter:
            deps = EngineDeps(admission, reporter, stats, brain_factory(settings, setups), __version__)
            async with trio.open_nursery() as nursery:
                server = await nursery.start(serve_calls, settings, deps)
                tune_gc()
                with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for signum in signals:
                        if not server.draining:
                            log.info("%s: draining", signal.Signals(signum).name)

                            async def drain_then_stop() -> None:
                                await server.drain(settings.drain_timeout_seconds)
                                nursery.cancel_scope.cancel()

                            nursery.start_soon(drain_then_stop)
                        else:
                            log.warning("second %s: ending all calls now", signal.Signals(signum).name)
                            server.shutdown_calls()
    finally:
        setups.close()


DESCRIPTION = """\
Serve the calls service: Twilio Media Streams on ws://CALLS_HOST:CALLS_PORT/ws/twilio (default
0.0.0.0:5050) and GET /health, until SIGTERM/SIGINT (the first drains live calls, a second ends
them at once).

Configured only by environment variables, read once at start by callengine/settings.py (the
README's "Calls service" table lists each one), chiefly: CALLS_HOST, CALLS_PORT, REDIS_URL,
MAX_CONCURRENT_CALLS, CALLS_MAX_PENDING_STARTS, CALLS_START_TIMEOUT_SECONDS,
DRAIN_TIMEOUT_SECONDS, CALLS_BRAIN, PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN, INTERNAL_SECRET,
APP_ENV, LOG_LEVEL. A bad value stops it with exit 2 and one message listing
every problem."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line takes no options: ``--help`` prints the usage, anything else exits 2."""
    parser = argparse.ArgumentParser(
        prog="python -m callengine", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"callengine: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json_lines=settings.production)
    try:
        trio.run(run, settings)
    except OSError as exc:  # e.g. the port is taken
        log.error("cannot serve: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
