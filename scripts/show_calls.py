"""Print the latest calls as ``GET /api/calls`` shows them (used by ``make run``).

    python scripts/show_calls.py http://127.0.0.1:5000 owner@demo.prosaas.local PASSWORD [SINCE]

Logs in with the session cookie, waits up to 60 s for a finalized call (one that started at
or after SINCE, epoch seconds, when given), prints it with its lead and transcript. Exit 1 with a message when the API refuses or nothing arrives.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from typing import Any

WAIT_SECONDS = 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python scripts/show_calls.py",
        description=__doc__.split("\n\n")[0],
        epilog="Reads no environment variables.",
    )
    parser.add_argument("base", metavar="BASE_URL", help="the API's origin, e.g. http://127.0.0.1:5000")
    parser.add_argument("email", help="login email (an owner of the business)")
    parser.add_argument("password", help="login password")
    parser.add_argument("since", nargs="?", type=float, metavar="SINCE", help="only calls started at or after this epoch second")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base, email, password = args.base, args.email, args.password
    since = datetime.fromtimestamp(args.since, UTC) if args.since is not None else None
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login = urllib.request.Request(
        base + "/api/auth/login", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"email": email, "password": password}).encode(),
    )
    try:
        opener.open(login, timeout=10).read()
    except urllib.error.HTTPError as exc:
        print(f"show_calls: login as {email} refused ({exc.code}): {exc.read().decode()[:200]}\n"
              "  (the database keeps the first seeded password; delete var/prosaas.db to reseed)",
              file=sys.stderr)
        return 1
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with opener.open(base + "/api/calls?per_page=5", timeout=10) as resp:
            page = json.loads(resp.read())
        items = [c for c in page.get("items", []) if c.get("end_reason") and _after(c, since)]
        if items or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not items:
        print(f"show_calls: no finalized call after {WAIT_SECONDS:.0f} s (see var/log/worker.log)",
              file=sys.stderr)
        return 1
    for call in items[:3]:
        _print_call(opener, base, call)
    return 0


def _after(call: dict[str, Any], since: datetime | None) -> bool:
    if since is None:
        return True
    started = call.get("started_at")
    return bool(started) and datetime.fromisoformat(started) >= since


def _print_call(opener: Any, base: str, call: dict[str, Any]) -> None:
    lead = call.get("lead") or {}
    print(f"{call.get('call_sid')}  {call.get('direction')}  {call.get('from')} → {call.get('to')}  "
          f"{call.get('status')}  {call.get('duration_seconds')} s  end: {call.get('end_reason')}")
    print(f"  lead: {lead.get('name') or '(no name)'}  {lead.get('phone_e164')}  status {lead.get('status')}")
    if call.get("summary"):
        print(f"  summary: {call['summary']}")
    with opener.open(f"{base}/api/calls/{call['id']}", timeout=10) as resp:
        detail = json.loads(resp.read())
    for turn in (detail.get("transcript") or [])[:12]:
        if isinstance(turn, dict) and turn.get("text"):
            print(f"    {turn.get('speaker', '?'):>6}: {turn['text']}")


if __name__ == "__main__":
    sys.exit(main())
