"""Broadcast throughput: sends per second through ``run_broadcast``'s chunks and the pacer with
pacing off, over real HTTP to a fake gateway shard that dedupes by idempotency key (the
per-recipient database work, the opt-out check, the claim and the mark included).

    python -m bench.broadcast_bench [--recipients 500] [--gateway-ms 0] [--database-url URL] [--json FILE]

It migrates a fresh SQLite file (or the given database), creates a business with N leads and a
broadcast to all of them, starts it, runs chunks in this process until it completes, checks
that every recipient was delivered exactly once, and prints one Markdown row.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from api.db.engine import make_engine
from api.db.models import Business, Lead
from api.migrate import upgrade
from api.services import broadcasts
from api.services.whatsapp_gateway import Gateway, GatewaySender
from bench.fake_wa_gateway import FakeGateway
from contracts.wa_send import Sender
from jobs import db as jobs_db
from jobs.broadcasts.run import run_chunk

__all__ = ["drive", "main", "prepare", "run"]

SECRET = "bench-secret"
PACING_OFF = {"BROADCAST_PER_MINUTE": "0", "BROADCAST_DAILY_CAP": "0"}


def prepare(url: str, recipients: int) -> tuple[int, int, list[str]]:
    """Migrate ``url``, create a business with ``recipients`` leads and a started broadcast to
    all of them; returns (business id, broadcast id, the leads' phones)."""
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        biz = Business(name="Bench", phone_e164=f"+1555{int(time.time() * 1000) % 10_000_000:07d}")
        session.add(biz)
        session.flush()
        phones = [f"+1999{biz.id % 1000:03d}{i:05d}" for i in range(recipients)]
        session.add_all([Lead(business_id=biz.id, phone_e164=phone) for phone in phones])
        session.flush()
        made, _ = broadcasts.create_broadcast(session, biz.id, text="Bench", idempotency_key=f"bench-{biz.id}")
        broadcasts.transition(session, biz.id, made["id"], "start")
        session.commit()
        business_id = biz.id
    engine.dispose()
    return business_id, made["id"], phones


def drive(url: str, broadcast_id: int, sender: Sender) -> tuple[int, float]:
    """Run the broadcast's chunks in this process, pacing off, until it completes; returns
    (chunks, seconds)."""
    jobs_db.configure(url)
    chunks = 0
    try:
        start = time.perf_counter()
        while True:
            chunks += 1
            if run_chunk(broadcast_id, sender, env=PACING_OFF).outcome == "completed":
                break
        return chunks, time.perf_counter() - start
    finally:
        jobs_db.reset()


def run(url: str, recipients: int, gateway_ms: float) -> dict[str, Any]:
    _, broadcast_id, _ = prepare(url, recipients)
    with FakeGateway(SECRET, delay_seconds=gateway_ms / 1000) as gateway:
        sender = GatewaySender(Gateway((gateway.url,), SECRET), shard_of=lambda business_id: 1)
        chunks, elapsed = drive(url, broadcast_id, sender)
        once = len(gateway.deliveries) == recipients and set(gateway.deliveries.values()) == {1}
    return {"recipients": recipients, "gateway_ms": gateway_ms, "chunks": chunks, "seconds": round(elapsed, 3),
            "sends_per_s": round(recipients / elapsed, 1), "each_delivered_once": once,
            "database": url.split(":", 1)[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=500)
    parser.add_argument("--gateway-ms", type=float, default=0.0, help="time the fake gateway takes per send")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if args.recipients < 1 or args.gateway_ms < 0:
        parser.error("--recipients must be positive and --gateway-ms not negative")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        result = run(url, args.recipients, args.gateway_ms)
    print("| recipients | database | gateway ms/send | chunks | seconds | sends/s | each delivered once |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {result['recipients']} | {result['database']} | {result['gateway_ms']:g} | {result['chunks']} | "
          f"{result['seconds']} | {result['sends_per_s']} | {result['each_delivered_once']} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if result["each_delivered_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
