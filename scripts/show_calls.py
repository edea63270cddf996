"""Print the latest calls as ``GET /api/calls`` shows them (used by ``make run``).

    python scripts/show_calls.py http://127.0.0.1:5000 owner@demo.prosaas.local PASSWORD [SINCE]

Logs in with the session cookie, waits up to 60 s for a finalized call (one that started at
or after SINCE, epoch seconds, when given) and prints it: what the agent understood (the
caller's need, name, callback number, message — from the call record's ``brain_summary``), the
conversation with each caller turn as the agent understood it (the answer its grammar decoded),
and, labelled as such, the best-effort full-vocabulary transcript of the caller's words. Exit 1
with a message when the API refuses or nothing arrives.
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

__all__ = ["describe_call", "main"]

WAIT_SECONDS = 60.0
MAX_TURNS = 12


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
    with opener.open(f"{base}/api/calls/{call['id']}", timeout=10) as resp:
        detail = json.loads(resp.read())
    print("\n".join(describe_call(call, detail)))


def _understood(lead: dict[str, Any]) -> str:
    """``need sales (said), name David (confirmed), call back +1555… (caller ID)``."""
    parts = []
    if lead.get("reason"):
        how = {"speech": "said", "dtmf": "keypad"}.get(str(lead.get("intent_source")), lead.get("intent_source"))
        parts.append(f"need {lead['reason']}" + (f" ({how})" if how and how != "none" else ""))
    if lead.get("name"):
        parts.append(f"name {lead['name']}" + (" (confirmed)" if lead.get("name_confirmed") else " (unconfirmed)"))
    if lead.get("callback_number"):
        how = {
            "caller_id": "caller ID, confirmed",
            "caller_id_unconfirmed": "caller ID, not confirmed",
            "dtmf": "typed",
            "speech": "said",
        }.get(str(lead.get("number_source")), lead.get("number_source"))
        parts.append(f"call back {lead['callback_number']}" + (f" ({how})" if how else ""))
    if lead.get("message"):
        parts.append(f'message "{lead["message"]}"')
    elif lead.get("message_path"):
        parts.append("message recorded")
    return ", ".join(parts) or "nothing (no answer was understood)"


def describe_call(call: dict[str, Any], detail: dict[str, Any]) -> list[str]:
    """Lines for one call: header, what the agent understood, the conversation, the transcript.

    Args:
        call: The call as ``GET /api/calls`` lists it.
        detail: The same call from ``GET /api/calls/{id}`` (transcript and events).
    """
    lead = call.get("lead") or {}
    lines = [
        f"{call.get('call_sid')}  {call.get('direction')}  {call.get('from')} → {call.get('to')}  "
        f"{call.get('status')}  {call.get('duration_seconds')} s  end: {call.get('end_reason')}",
    ]
    brain = (detail.get("events") or {}).get("brain_summary") or {}
    if isinstance(brain.get("lead"), dict):
        lines.append(f"  understood: {_understood(brain['lead'])}")
    lines.append(f"  lead: {lead.get('name') or '(no name)'}  {lead.get('phone_e164')}  status {lead.get('status')}")
    if call.get("summary"):
        lines.append(f"  summary: {call['summary']}")
    turns = [t for t in (detail.get("transcript") or []) if isinstance(t, dict)][:MAX_TURNS]
    if turns:
        lines.append("  conversation (caller turns as the agent understood them):")
    words = []
    for turn in turns:
        speaker = turn.get("speaker", "?")
        if speaker == "caller":
            if turn.get("text"):
                words.append(str(turn["text"]))
            heard = turn.get("heard")
            understood = f'"{heard}"' if heard else "(not understood)"
            expect = f"  [{turn['expect']}]" if turn.get("expect") else ""
            lines.append(f"    caller: {understood}{expect}")
        elif turn.get("text"):
            lines.append(f"    {speaker:>6}: {turn['text']}")
    if words:
        lines.append("  transcript (best effort, full vocabulary): " + " / ".join(f'"{w}"' for w in words))
    return lines


if __name__ == "__main__":
    sys.exit(main())
