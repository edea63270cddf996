"""A 300-recipient broadcast through the real ``python -m jobs.worker`` and a fake gateway over
HTTP (pacing off): the worker is SIGKILLed mid-broadcast and a new one started; every recipient
is delivered exactly once (the gateway counts deliveries per idempotency key), on SQLite and
Postgres. Also the gateway client's mapping of the gateway's error answers to the send errors."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api.db.models import Broadcast, BroadcastRecipient, Business, Lead
from api.services import broadcasts
from api.services.whatsapp_gateway import Gateway, GatewaySender
from bench.fake_wa_gateway import FakeGateway
from contracts.wa_send import (
    GatewayUnavailable,
    InvalidNumber,
    NotConnected,
    ReachOutLimited,
    SendError,
    SendResult,
    WrongShard,
)
from jobs.enqueue import enqueue_broadcast
from tests.conftest import PrivateRedis
from tests.jobs.workerproc import kill_tree, start_worker, wait_until

SECRET = "internal-secret-for-tests"
RECIPIENTS = 300
FAST = {"WORKER_JOB_MONITORING_INTERVAL_SECONDS": "1", "WORKER_ABANDONED_GRACE_SECONDS": "2",
        "WORKER_MAINTENANCE_INTERVAL_SECONDS": "2"}


@pytest.fixture
def db(job_db: str) -> Iterator[Session]:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def counts(db: Session, broadcast_id: int) -> dict[str, int]:
    db.expire_all()
    rows = db.execute(select(BroadcastRecipient.status, func.count())
                      .where(BroadcastRecipient.broadcast_id == broadcast_id)
                      .group_by(BroadcastRecipient.status)).all()
    return {status: int(n) for status, n in rows}


def status_of(db: Session, broadcast_id: int) -> str:
    db.expire_all()
    row = db.get(Broadcast, broadcast_id)
    return row.status if row is not None else ""


def test_a_worker_killed_mid_broadcast_loses_and_doubles_nothing(db: Session, job_db: str, tmp_path: Path) -> None:
    biz = Business(name="Shop", phone_e164="+15550009999")
    db.add(biz)
    db.flush()
    db.add_all([Lead(business_id=biz.id, phone_e164=f"+1777{i:07d}") for i in range(RECIPIENTS)])
    db.flush()
    made, _ = broadcasts.create_broadcast(db, biz.id, text="Winter sale", idempotency_key="kill-test")
    broadcasts.transition(db, biz.id, made["id"], "start")
    db.commit()
    bid = made["id"]

    server = PrivateRedis(tmp_path)
    server.start()
    conn = redis.Redis.from_url(server.url)
    log = tmp_path / "worker.log"
    procs: list[subprocess.Popen[bytes]] = []
    with FakeGateway(SECRET, delay_seconds=0.01) as gateway:
        env = {"DATABASE_URL": job_db, "RQ_QUEUES": "broadcasts", "INTERNAL_SECRET": SECRET,
               "BAILEYS_NUM_SHARDS": "1", "BAILEYS_SHARD_1_URL": gateway.url, "BROADCAST_PER_MINUTE": "0",
               "BROADCAST_DAILY_CAP": "0", "BROADCAST_LOCK_SECONDS": "3", **FAST}
        try:
            enqueue_broadcast(conn, bid, key="start")
            procs.append(start_worker(server.url, log, **env))
            wait_until(lambda: gateway.delivered >= RECIPIENTS // 3, 60, "a third of the sends", log)
            kill_tree(procs[-1])
            at_kill = gateway.delivered
            assert at_kill < RECIPIENTS, "killed too late to prove anything"
            procs.append(start_worker(server.url, log, **env))
            wait_until(lambda: counts(db, bid).get("sent", 0) == RECIPIENTS, 120, "every recipient sent", log)
            wait_until(lambda: status_of(db, bid) == "completed", 30, "the broadcast completed", log)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    kill_tree(proc)
            conn.close()
            server.stop()
        assert len(gateway.deliveries) == RECIPIENTS and set(gateway.deliveries.values()) == {1}
        db.expire_all()
        rows = db.scalars(select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == bid)).all()
        assert {r.idempotency_key for r in rows} == set(gateway.deliveries)
        assert all(r.message_id == gateway.ids[r.idempotency_key] for r in rows)
        row = db.get(Broadcast, bid)
        assert row is not None and (row.sent, row.failed, row.skipped) == (RECIPIENTS, 0, 0)


@pytest.mark.parametrize(
    ("status", "body", "error", "check"),
    [
        (409, {"error": "not_connected", "message": "state qr"}, NotConnected, "state qr"),
        (422, {"error": "invalid_number", "message": "not on WhatsApp"}, InvalidNumber, "not on WhatsApp"),
        (423, {"error": "reach_out_limited", "until": "2026-12-07T10:00:00Z"}, ReachOutLimited, "limits new contacts"),
        (503, {"error": "send_failed", "message": "socket closed"}, GatewayUnavailable, "socket closed"),
        (500, {}, GatewayUnavailable, "HTTP 500"),
    ],
)
def test_the_gateway_sender_maps_the_gateway_answers(
    status: int, body: dict[str, Any], error: type[SendError], check: str
) -> None:
    with FakeGateway(SECRET) as gateway:
        sender = GatewaySender(Gateway((gateway.url,), SECRET), shard_of=lambda business_id: 1)
        first = sender.send(7, "+15550001111", "hi", None, "key-1")
        assert isinstance(first, SendResult) and not first.duplicate
        again = sender.send(7, "+15550001111", "hi", None, "key-1")
        assert again == SendResult(first.message_id, duplicate=True) and gateway.delivered == 1
        gateway.refuse["+15550002222"] = (status, body)
        with pytest.raises(error, match=check) as caught:
            sender.send(7, "+15550002222", "hi", None, "key-2")
        if isinstance(caught.value, ReachOutLimited):
            assert caught.value.until == datetime(2026, 12, 7, 10, tzinfo=UTC)
        with pytest.raises(WrongShard):  # the shard header disagrees with the shard's id
            GatewaySender(Gateway((gateway.url, gateway.url), SECRET), shard_of=lambda business_id: 2).send(
                7, "+15550001111", "hi", None, "key-3")
    with pytest.raises(GatewayUnavailable, match="unreachable"):
        sender.send(7, "+15550001111", "hi", None, "key-4")  # the gateway is gone
    with pytest.raises(WrongShard, match="only 1 shard"):
        GatewaySender(Gateway(("http://127.0.0.1:9",), SECRET), shard_of=lambda business_id: 3).send(
            7, "+1", "hi", None, "k")
    with FakeGateway("another-secret") as gateway, pytest.raises(GatewayUnavailable, match="INTERNAL_SECRET"):
        GatewaySender(Gateway((gateway.url,), SECRET), shard_of=lambda business_id: 1).send(7, "+1", "hi", None, "k")


def test_a_paced_broadcast_waits_through_the_workers_scheduler(db: Session, job_db: str, tmp_path: Path) -> None:
    """7.5 s between sends (8 a minute, no jitter): longer than a chunk waits in-line, so each
    send after the first is a scheduled chunk that the worker's RQ scheduler fires."""
    biz = Business(name="Paced", phone_e164="+15550008888",
                   brain_settings={"broadcasts": {"per_minute": 8, "jitter": 0}})
    db.add(biz)
    db.flush()
    db.add_all([Lead(business_id=biz.id, phone_e164=f"+1778{i:07d}") for i in range(3)])
    db.flush()
    made, _ = broadcasts.create_broadcast(db, biz.id, text="Paced", idempotency_key="paced")
    broadcasts.transition(db, biz.id, made["id"], "start")
    db.commit()
    server = PrivateRedis(tmp_path)
    server.start()
    conn = redis.Redis.from_url(server.url)
    log = tmp_path / "worker.log"
    with FakeGateway(SECRET) as gateway:
        proc = start_worker(server.url, log, DATABASE_URL=job_db, RQ_QUEUES="broadcasts", INTERNAL_SECRET=SECRET,
                            BAILEYS_NUM_SHARDS="1", BAILEYS_SHARD_1_URL=gateway.url)
        try:
            enqueue_broadcast(conn, made["id"], key="start")
            wait_until(lambda: status_of(db, made["id"]) == "completed", 60, "the paced broadcast to complete", log)
        finally:
            kill_tree(proc)
            conn.close()
            server.stop()
        db.expire_all()
        sent_at = sorted(r.sent_at for r in db.scalars(  # type: ignore[type-var]
            select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == made["id"])))
        gaps = [(b - a).total_seconds() for a, b in zip(sent_at, sent_at[1:], strict=False)]  # type: ignore[operator]
        assert len(gateway.deliveries) == 3 and all(7.4 <= g <= 12 for g in gaps), gaps
        assert "(paced)" in log.read_text()  # the later chunks were scheduled jobs (enqueue_broadcast at=)
