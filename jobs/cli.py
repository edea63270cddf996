"""``python -m jobs failed list|show|requeue|purge``: the dead letters, for an operator.

    python -m jobs failed list                 one line per dead job: id, queue, function, failed at, reason
    python -m jobs failed show ID              everything about one: arguments, reason, traceback
    python -m jobs failed requeue ID | --all   back on its original queue, with fresh retries
    python -m jobs failed purge ID | --all     delete it for good

Exit 0 on success, 1 when an id is not a dead job (or cannot be requeued), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from redis import Redis
from redis.exceptions import RedisError

from jobs import admin
from jobs.worker_settings import SettingsError, WorkerSettings

if TYPE_CHECKING:
    from jobs.admin import DeadJob

__all__ = ["main"]

EPILOG = """\
Environment variables: REDIS_URL (default redis://127.0.0.1:6379/0). The dead jobs' ids are the
Redis list rq:queue:failed (LLEN rq:queue:failed counts them); no worker consumes it."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m jobs", description="Background jobs: inspect and handle the dead letters.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = parser.add_subparsers(dest="group", required=True, metavar="failed")
    failed = groups.add_parser("failed", help="dead jobs (rq:queue:failed)", epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = failed.add_subparsers(dest="action", required=True, metavar="list|show|requeue|purge")
    actions.add_parser("list", help="one line per dead job, oldest first")
    show = actions.add_parser("show", help="one dead job in full")
    show.add_argument("job_id", metavar="ID")
    for name, text in (("requeue", "put dead jobs back on their original queue, with fresh retries"),
                       ("purge", "delete dead jobs for good")):
        action = actions.add_parser(name, help=text)
        which = action.add_mutually_exclusive_group(required=True)
        which.add_argument("job_id", nargs="?", metavar="ID")
        which.add_argument("--all", action="store_true", help="every dead job")
    return parser.parse_args(argv)


def _line(dead: DeadJob) -> str:
    return f"{dead.id}  {dead.queue}  {dead.func}  {dead.failed_at}  {dead.reason}"


def _show(dead: DeadJob, out: TextIO) -> None:
    print(f"id:         {dead.id}", file=out)
    print(f"queue:      {dead.queue}", file=out)
    print(f"function:   {dead.func}", file=out)
    print(f"failed at:  {dead.failed_at}", file=out)
    print(f"reason:     {dead.reason}", file=out)
    print(f"retries left: {dead.retries_left or 0}", file=out)
    args = dead.args if isinstance(dead.args, str) else json.dumps(dead.args, default=str)
    print(f"arguments:  {args}", file=out)
    if dead.traceback:
        print("traceback:", file=out)
        print(dead.traceback.rstrip(), file=out)


def run(connection: Redis, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Carry out the parsed command; returns the exit code."""
    action = args.action
    if action == "list":
        dead_jobs, total = admin.list_dead_letters(connection)
        for dead in reversed(dead_jobs):  # oldest first
            print(_line(dead), file=out)
        print(f"{total} dead job(s)" if total else "no dead jobs", file=out)
        return 0
    if action == "show":
        try:
            dead = admin.show_dead_letter(connection, args.job_id)
        except admin.UnknownDeadJob:
            print(f"jobs: no dead job with id {args.job_id!r} (python -m jobs failed list shows them)", file=err)
            return 1
        _show(dead, out)
        return 0
    ids = admin.dead_letter_ids(connection) if args.all else [args.job_id]
    if args.all and not ids:
        print("no dead jobs", file=out)
        return 0
    code = 0
    for job_id in ids:
        try:
            if action == "requeue":
                queue, retries = admin.requeue_dead_letter(connection, job_id)
                print(f"requeued {job_id} on queue {queue} ({retries} retries)", file=out)
            else:
                admin.purge_dead_letter(connection, job_id)
                print(f"purged {job_id}", file=out)
        except admin.UnknownDeadJob:
            print(f"jobs: no dead job with id {job_id!r} (python -m jobs failed list shows them)", file=err)
            code = 1
        except ValueError as exc:
            print(f"jobs: {exc}", file=err)
            code = 1
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = WorkerSettings.from_env(os.environ)
    except SettingsError as exc:
        print(f"jobs: {exc}", file=sys.stderr)
        return 2
    connection = Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=10)
    try:
        return run(connection, args, sys.stdout, sys.stderr)
    except RedisError as exc:
        print(f"jobs: Redis does not answer: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
