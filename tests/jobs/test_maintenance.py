"""The database maintenance jobs on SQLite and Postgres, with real files under tmp_path:
recordings retention, the broadcast watchdog and the stale-data cleanup."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from api.db.models import (
    Broadcast,
    BroadcastRecipient,
    Business,
    Call,
    DeliveryStatus,
    Role,
    User,
    UserSession,
    WebhookDelivery,
    WhatsAppEvent,
)
from api.settings import Settings
from contracts.jobs import RUN_BROADCAST
from jobs.enqueue import enqueue_broadcast
from jobs.maintenance import broadcast_watchdog, recording_target, recordings_retention, stale_cleanup
from tests.api.conftest import REDIS_URL, redis_client  # noqa: F401 (fixture)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(job_db: str) -> Iterator[Session]:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def business(db: Session, n: int, retention_days: int) -> int:
    row = Business(name=f"B{n}", phone_e164=f"+1555000{n:04d}", recording_retention_days=retention_days)
    db.add(row)
    db.flush()
    return row.id


def call(db: Session, business_id: int, sid: str, ended_days_ago: float, path: str | None) -> int:
    ended = NOW - timedelta(days=ended_days_ago)
    row = Call(call_sid=sid, business_id=business_id, status="completed", started_at=ended - timedelta(minutes=2),
               ended_at=ended, recording_path=path)
    db.add(row)
    db.flush()
    return row.id


def wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVE")
    return path


# --- recordings retention -------------------------------------------------------------------------


def test_retention_deletes_old_recordings_and_refuses_paths_outside_the_directory(db: Session, tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    outside = wav(tmp_path / "outside" / "secret.wav")
    month, keep_all, week = business(db, 1, 30), business(db, 2, 0), business(db, 3, 7)
    old = call(db, month, "CAold", 40, str(wav(root / "CAold.wav")))
    recent = call(db, month, "CArecent", 10, str(wav(root / "CArecent.wav")))
    forever = call(db, keep_all, "CAforever", 400, str(wav(root / "CAforever.wav")))
    missing = call(db, month, "CAmissing", 40, str(root / "CAmissing.wav"))
    escape = call(db, month, "CAescape", 40, str(outside))
    dotdot = call(db, month, "CAdotdot", 40, f"{root}/../outside/secret.wav")
    (root / "link.wav").symlink_to(outside)
    link = call(db, month, "CAlink", 40, str(root / "link.wav"))
    relative = call(db, week, "CArel", 8, "var/recordings/CArel.wav")  # the calls service's relative default
    wav(root / "CArel.wav")
    no_end = Call(call_sid="CAnoend", business_id=month, status="in-progress", recording_path=str(wav(root / "CAnoend.wav")))
    db.add(no_end)
    db.commit()

    counts = recordings_retention(recordings_dir=root, now=NOW, batch_size=2)
    assert counts == {"deleted": 2, "missing": 1, "refused": 3}
    assert not (root / "CAold.wav").exists() and not (root / "CArel.wav").exists()
    for kept in ("CArecent.wav", "CAforever.wav", "CAnoend.wav", "link.wav"):
        assert (root / kept).exists(), kept
    assert outside.read_bytes() == b"RIFF....WAVE", "nothing outside RECORDINGS_DIR is touched"

    db.expire_all()
    by_id = {c.id: c for c in db.scalars(select(Call))}
    for gone in (old, missing, relative):
        assert by_id[gone].recording_path is None
        assert by_id[gone].recording_deleted_at == NOW
    for untouched in (recent, forever, escape, dotdot, link):
        assert by_id[untouched].recording_path is not None
        assert by_id[untouched].recording_deleted_at is None

    assert recordings_retention(recordings_dir=root, now=NOW) == {"deleted": 0, "missing": 0, "refused": 3}


def test_retention_reads_recordings_dir_from_the_environment(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "env-recordings"
    monkeypatch.setenv("RECORDINGS_DIR", str(root))
    call(db, business(db, 1, 1), "CA1", 2, str(wav(root / "CA1.wav")))
    db.commit()
    assert recordings_retention(now=NOW)["deleted"] == 1
    assert not (root / "CA1.wav").exists()


@pytest.mark.parametrize(
    ("stored", "inside"),
    [("CA1.wav", True), ("sub/CA1.wav", True), ("/elsewhere/CA1.wav", False), ("../CA1.wav", False),
     ("", False), (".", False)],
)
def test_recording_target_stays_inside_the_directory(tmp_path: Path, stored: str, inside: bool) -> None:
    target = recording_target(tmp_path, stored)
    assert (target is not None) is inside
    if target is not None:
        assert target == tmp_path.resolve() / "CA1.wav"


# --- broadcast watchdog ---------------------------------------------------------------------------


def broadcast(
    db: Session, business_id: int, key: str, status: str, quiet_minutes: int,
    recipients: list[tuple[str, int, int | None]],
) -> int:
    """A broadcast unchanged for ``quiet_minutes``; each recipient (status, attempts, minutes
    since its own last change, None for a row from before that column)."""
    at = NOW - timedelta(minutes=quiet_minutes)
    row = Broadcast(business_id=business_id, body="hi", status=status, idempotency_key=key, created_at=at, updated_at=at)
    db.add(row)
    db.flush()
    for i, (state, attempts, minutes) in enumerate(recipients):
        db.add(BroadcastRecipient(broadcast_id=row.id, address=f"+1444{i:07d}", status=state, attempts=attempts,
                                  idempotency_key=f"{key}-{i}"))
        db.flush()
        # a statement, not the ORM: it would stamp None with the column's default
        stamp = None if minutes is None else NOW - timedelta(minutes=minutes)
        db.execute(update(BroadcastRecipient).where(BroadcastRecipient.idempotency_key == f"{key}-{i}")
                   .values(updated_at=stamp))
    return row.id


def statuses(db: Session, broadcast_id: int) -> list[tuple[str, int]]:
    db.expire_all()
    rows = db.scalars(select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast_id)
                      .order_by(BroadcastRecipient.id))
    return [(r.status, r.attempts) for r in rows]


def test_watchdog_requeues_stuck_recipients_and_completes_finished_broadcasts(
    db: Session, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, redis_client: Any  # noqa: F811
) -> None:
    caplog.set_level("INFO")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    b = business(db, 1, 90)
    stuck = broadcast(db, b, "stuck", "running", 60, [("sending", 2, 60), ("sent", 1, 59), ("pending", 0, 60)])
    finished = broadcast(db, b, "finished", "running", 60, [("sent", 1, 70), ("failed", 3, 70), ("skipped", 0, 70)])
    # the broadcast row is old but this recipient was claimed a minute ago: being sent, not stuck
    sending_now = broadcast(db, b, "sending-now", "running", 60, [("sending", 1, 1), ("sent", 1, 2)])
    just_done = broadcast(db, b, "just-done", "running", 1, [("sent", 1, 1)])
    only_stuck = broadcast(db, b, "only-stuck", "running", 60, [("sending", 4, 20)])
    legacy = broadcast(db, b, "legacy", "running", 60, [("sending", 1, None)])
    legacy_busy = broadcast(db, b, "legacy-busy", "running", 1, [("sending", 1, None)])
    paused = broadcast(db, b, "paused", "paused", 60, [("sent", 1, 60)])
    db.commit()

    assert broadcast_watchdog(now=NOW) == {"recipients_requeued": 3, "broadcasts_completed": 1,
                                           "broadcasts_resumed": 3}
    # running, recipients left, quiet for an hour, no job: stuck, only-stuck and legacy get a job
    slot = int(NOW.timestamp()) // 60
    queued = set(Queue(RUN_BROADCAST.queue, connection=Redis.from_url(REDIS_URL),
                       serializer=JSONSerializer).get_job_ids())
    assert queued == {f"broadcast-{i}-watchdog-{slot}" for i in (stuck, only_stuck, legacy)}
    assert statuses(db, stuck) == [("pending", 2), ("sent", 1), ("pending", 0)], "attempts are kept"
    assert statuses(db, sending_now) == [("sending", 1), ("sent", 1)]
    assert statuses(db, only_stuck) == [("pending", 4)]
    assert statuses(db, legacy) == [("pending", 1)]
    assert statuses(db, legacy_busy) == [("sending", 1)]
    state = {row.id: row.status for row in db.scalars(select(Broadcast))}
    assert state == {stuck: "running", finished: "completed", sending_now: "running", just_done: "running",
                     only_stuck: "running", legacy: "running", legacy_busy: "running", paused: "paused"}
    requeued = db.scalars(select(BroadcastRecipient).where(BroadcastRecipient.idempotency_key == "stuck-0")).one()
    assert requeued.updated_at is not None and requeued.updated_at > NOW - timedelta(minutes=1)
    assert f"broadcast {stuck}: 1 recipients stuck in sending went back to pending" in caplog.text
    assert f"broadcasts {finished} had nothing left to send" in caplog.text
    assert broadcast_watchdog(now=NOW) == {"recipients_requeued": 0, "broadcasts_completed": 0,
                                           "broadcasts_resumed": 0}


def test_watchdog_resumes_a_running_broadcast_only_when_its_job_is_gone(
    db: Session, monkeypatch: pytest.MonkeyPatch, redis_client: Any  # noqa: F811
) -> None:
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    conn = Redis.from_url(REDIS_URL)
    b = business(db, 1, 90)
    lost = broadcast(db, b, "lost", "running", 30, [("sent", 1, 30), ("pending", 0, 30)])
    waiting = broadcast(db, b, "waiting", "running", 30, [("pending", 0, 30)])  # a scheduled job (daily cap)
    paused = broadcast(db, b, "paused", "paused", 30, [("pending", 0, 30)])
    db.commit()
    scheduled = enqueue_broadcast(conn, waiting, key="next-1", at=NOW + timedelta(hours=10))
    db.execute(update(Broadcast).where(Broadcast.id == waiting).values(job_id=scheduled,
                                                                        updated_at=NOW - timedelta(minutes=30)))
    db.commit()
    assert broadcast_watchdog(now=NOW)["broadcasts_resumed"] == 1
    db.expire_all()
    first = db.get(Broadcast, lost).job_id  # type: ignore[union-attr]
    assert first == f"broadcast-{lost}-watchdog-{int(NOW.timestamp()) // 60}"
    assert db.get(Broadcast, paused).job_id == ""  # type: ignore[union-attr]
    # its job is queued: not again, even long after
    db.execute(update(Broadcast).values(updated_at=NOW - timedelta(minutes=30)))
    db.commit()
    assert broadcast_watchdog(now=NOW + timedelta(minutes=10))["broadcasts_resumed"] == 0
    # the job ran and ended (or was lost) without progress: a fresh one, with a new id
    Job.fetch(first, connection=conn, serializer=JSONSerializer).delete()
    assert broadcast_watchdog(now=NOW + timedelta(minutes=10))["broadcasts_resumed"] == 1
    db.expire_all()
    assert db.get(Broadcast, lost).job_id != first  # type: ignore[union-attr]
    conn.close()


# --- stale cleanup --------------------------------------------------------------------------------


def test_cleanup_deletes_expired_sessions_and_old_delivered_webhooks(db: Session) -> None:
    b = business(db, 1, 90)
    user = User(email="o@example.test", role=Role.OWNER, business_id=b, password_hash="x")
    db.add(user)
    db.flush()
    settings = Settings(session_idle_seconds=1800, session_max_age_seconds=8 * 3600)

    def session_row(name: str, created_hours: float, seen_minutes: float) -> None:
        db.add(UserSession(id=hashlib.sha256(name.encode()).hexdigest(), user_id=user.id,
                           created_at=NOW - timedelta(hours=created_hours), last_seen_at=NOW - timedelta(minutes=seen_minutes)))

    session_row("fresh", 1, 5)
    session_row("idle", 1, 31)
    session_row("too-old", 9, 1)

    def delivery(name: str, status: str, age_days: float, delivered_days: float | None) -> None:
        db.add(WebhookDelivery(business_id=b, event_id=name, event="lead_created", url="https://x.test/h",
                               status=status, created_at=NOW - timedelta(days=age_days),
                               delivered_at=None if delivered_days is None else NOW - timedelta(days=delivered_days)))

    delivery("old-delivered", DeliveryStatus.DELIVERED, 41, 40)
    delivery("new-delivered", DeliveryStatus.DELIVERED, 6, 5)
    delivery("old-failed", DeliveryStatus.FAILED, 100, None)
    delivery("old-pending", DeliveryStatus.PENDING, 40, None)
    db.commit()

    for name, age_days in (("old-event", 31), ("new-event", 29)):
        db.add(WhatsAppEvent(business_id=b, event_id=name, type="message.inbound", shard_id=1, epoch=1, seq=1,
                             received_at=NOW - timedelta(days=age_days)))
    db.commit()

    assert stale_cleanup(now=NOW, settings=settings) == {"sessions": 2, "webhook_deliveries": 1, "whatsapp_events": 1}
    db.expire_all()
    assert [s.id for s in db.scalars(select(UserSession))] == [hashlib.sha256(b"fresh").hexdigest()]
    assert sorted(d.event_id for d in db.scalars(select(WebhookDelivery))) == ["new-delivered", "old-failed", "old-pending"]
    assert [e.event_id for e in db.scalars(select(WhatsAppEvent))] == ["new-event"]
    assert stale_cleanup(now=NOW, settings=settings) == {"sessions": 0, "webhook_deliveries": 0, "whatsapp_events": 0}
