"""``python -m api``: serve the API with Hypercorn's trio worker on API_PORT (default 5000)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart_trio import QuartTrio

from api import __version__
from api.app import create_app
from api.db.revisions import schema_problem
from api.errors import SettingsError
from api.logs import configure_logging
from api.settings import Settings

log = logging.getLogger("api")
GRACEFUL_TIMEOUT_SECONDS = 10  # in-flight requests (SSE streams end) before cancellation


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.worker_class = "trio"
    config.graceful_timeout = GRACEFUL_TIMEOUT_SECONDS
    config.accesslog = None
    config.errorlog = "-"
    return config


async def _wait_for_signal() -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("%s: finishing in-flight requests", signal.Signals(signum).name)
            return


async def _serve(app: QuartTrio, config: Config) -> None:
    await serve(app, config, shutdown_trigger=_wait_for_signal)


DESCRIPTION = """\
Serve the API (Quart-Trio under Hypercorn's trio worker) on API_HOST:API_PORT (default
0.0.0.0:5000) until SIGTERM/SIGINT, which finishes in-flight requests first. Run
python -m api.migrate first: on a database behind the migration head it refuses to start
(exit 1, naming the revision and the head).

Configured only by environment variables, read once at start by api/settings.py (the README's
"API" table lists each one), chiefly: API_HOST, API_PORT, API_WORKERS, DATABASE_URL, REDIS_URL,
SECRET_KEY, INTERNAL_SECRET, PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, APP_ENV,
LOG_LEVEL. A bad value stops it with exit 2 and one message listing every problem."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line takes no options: ``--help`` prints the usage, anything else exits 2."""
    parser = argparse.ArgumentParser(
        prog="python -m api", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"api: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    problem = schema_problem(settings.database_url)
    if problem is not None:
        print(f"api: {problem}", file=sys.stderr)
        return 1
    if settings.workers > 1:
        # Several processes: hand over to Hypercorn's own supervisor (each worker builds the app).
        from hypercorn.run import run

        config = hypercorn_config(settings)
        config.workers = settings.workers
        config.application_path = "api.wsgi:app"
        return run(config)
    app = create_app(settings)
    log.info("prosaas-api listening on %s:%d (%s)", settings.host, settings.port, settings.app_env)
    try:
        trio.run(_serve, app, hypercorn_config(settings))
    except OSError as exc:
        log.error("cannot serve: %s", exc)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
