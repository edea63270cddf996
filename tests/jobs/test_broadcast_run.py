"""``run_broadcast`` chunks on SQLite and Postgres with a fake sender: sending, pacing, opt-out,
temporary and permanent errors, pause/cancel, orphans of a dead chunk, and the atomic claim."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from api.db.models import Broadcast, BroadcastRecipient, Business, Lead, WhatsAppOptOut
from api.services import broadcasts
from contracts.wa_send import GatewayUnavailable, InvalidNumber, NotConnected, ReachOutLimited, SendError
from jobs.broadcasts import store
from jobs.broadcasts.run import MAX_ATTEMPTS, run_chunk
from tests.fakes.wa_sender import FakeSender

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
OFF = {"BROADCAST_PER_MINUTE": "0", "BROADCAST_DAILY_CAP": "0"}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def db(job_db: str) -> Iterator[Session]:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def setup(db: Session, n: int, *, brain: dict[str, object] | None = None, start: bool = True) -> tuple[int, int]:
    """A business with ``n`` leads and a broadcast to all of them; (business id, broadcast id)."""
    biz = Business(name="B", phone_e164=f"+1555{random.randint(1000000, 9999999)}", brain_settings=brain or {})
    db.add(biz)
    db.flush()
    for i in range(n):
        db.add(Lead(business_id=biz.id, phone_e164=f"+1444{biz.id:03d}{i:04d}"))
    db.flush()
    made, _ = broadcasts.create_broadcast(db, biz.id, text="Hello", idempotency_key=f"k{biz.id}")
    if start:
        broadcasts.transition(db, biz.id, made["id"], "start")
    db.commit()
    return biz.id, made["id"]


def rows(db: Session, broadcast_id: int) -> list[BroadcastRecipient]:
    db.expire_all()
    return list(db.scalars(select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast_id)
                          .order_by(BroadcastRecipient.id)))


def status(db: Session, broadcast_id: int) -> str:
    db.expire_all()
    return db.get(Broadcast, broadcast_id).status  # type: ignore[union-attr]


def test_a_chunk_sends_everyone_once_and_completes(db: Session) -> None:
    _, bid = setup(db, 7)
    sender, clock = FakeSender(), Clock()
    chunk = run_chunk(bid, sender, env=OFF, clock=clock, sleep=clock.sleep)
    assert (chunk.outcome, chunk.sent) == ("completed", 7)
    assert all(r.status == "sent" and r.message_id and r.attempts == 1 for r in rows(db, bid))
    assert set(sender.deliveries.values()) == {1} and len(sender.deliveries) == 7
    assert status(db, bid) == "completed"
    assert run_chunk(bid, sender, env=OFF, clock=clock).outcome == "stopped"  # completed: nothing more


def test_chunks_stop_at_their_size_and_continue(db: Session) -> None:
    _, bid = setup(db, 12)
    sender, clock = FakeSender(), Clock()
    first = run_chunk(bid, sender, env=OFF, clock=clock, chunk_size=5)
    assert (first.outcome, first.sent, first.next_at) == ("more", 5, NOW)
    assert run_chunk(bid, sender, env=OFF, clock=clock, chunk_size=5).sent == 5
    assert run_chunk(bid, sender, env=OFF, clock=clock, chunk_size=5).outcome == "completed"
    assert len(sender.deliveries) == 12


def test_the_pacer_spaces_sends_and_hands_long_waits_back(db: Session) -> None:
    # 6 a minute without jitter: 10 s apart, longer than the in-line wait: one send per chunk.
    _, bid = setup(db, 3, brain={"broadcasts": {"per_minute": 6, "jitter": 0}})
    sender, clock = FakeSender(), Clock()
    chunk = run_chunk(bid, sender, env={}, clock=clock, sleep=clock.sleep, rng=random.Random(1))
    assert (chunk.outcome, chunk.sent, chunk.next_at) == ("more", 1, NOW + timedelta(seconds=10))
    # 30 a minute: 2 s gaps are waited in-line (on the test's clock).
    _, fast = setup(db, 3, brain={"broadcasts": {"per_minute": 30, "jitter": 0}})
    chunk = run_chunk(fast, sender, env={}, clock=clock, sleep=clock.sleep)
    assert (chunk.outcome, chunk.sent) == ("completed", 3)
    sent_at = [r.sent_at for r in rows(db, fast)]
    assert [(b - a).total_seconds() for a, b in zip(sent_at, sent_at[1:], strict=False)] == [2.0, 2.0]  # type: ignore[operator]


def test_the_daily_cap_waits_for_tomorrow(db: Session) -> None:
    _, bid = setup(db, 4, brain={"broadcasts": {"per_minute": 0, "daily_cap": 2}})
    clock = Clock()
    chunk = run_chunk(bid, FakeSender(), env={}, clock=clock)
    assert chunk.outcome == "more" and chunk.sent == 2
    assert datetime(2026, 12, 7, tzinfo=UTC) <= chunk.next_at <= datetime(2026, 12, 7, 0, 10, tzinfo=UTC)  # type: ignore[operator]


def test_opted_out_phones_are_skipped_before_the_send(db: Session) -> None:
    biz, bid = setup(db, 3)
    phone = rows(db, bid)[1].address
    db.add(WhatsAppOptOut(business_id=biz, phone_e164=phone))
    db.commit()
    sender = FakeSender()
    assert run_chunk(bid, sender, env=OFF, clock=Clock()).outcome == "completed"
    assert [(r.status, r.last_error) for r in rows(db, bid)] == [("sent", ""), ("skipped", "opted_out"), ("sent", "")]
    assert phone not in {to for _, to, _, _ in sender.sent}


def test_permanent_errors_fail_the_recipient_without_retry(db: Session) -> None:
    _, bid = setup(db, 3)
    addresses = [r.address for r in rows(db, bid)]
    errors: dict[str, SendError] = {addresses[0]: InvalidNumber("not on WhatsApp"),
                                    addresses[1]: ReachOutLimited("463", datetime(2026, 12, 7, tzinfo=UTC))}
    sender = FakeSender(lambda to, n: errors.get(to))
    assert run_chunk(bid, sender, env=OFF, clock=Clock()).outcome == "completed"
    got = rows(db, bid)
    assert [r.status for r in got] == ["failed", "failed", "sent"]
    assert got[0].last_error.startswith("invalid_number") and "2026-12-07" in got[1].last_error
    assert sender.calls[got[0].idempotency_key] == 1 and sender.calls[got[1].idempotency_key] == 1


def test_temporary_errors_back_off_then_give_up(db: Session) -> None:
    _, bid = setup(db, 2)
    first = rows(db, bid)[0].address
    sender = FakeSender(lambda to, n: GatewayUnavailable("503") if to == first else None)
    clock = Clock()
    chunk = run_chunk(bid, sender, env=OFF, clock=clock)
    # the gateway is down: the chunk stops at once and comes back after the backoff
    assert (chunk.outcome, chunk.sent, chunk.next_at) == ("more", 0, NOW + timedelta(seconds=30))
    r = rows(db, bid)[0]
    assert (r.status, r.attempts, r.next_attempt_at) == ("pending", 1, NOW + timedelta(seconds=30))
    for _ in range(MAX_ATTEMPTS + 2):
        clock.now += timedelta(hours=1)
        if run_chunk(bid, sender, env=OFF, clock=clock).outcome == "completed":
            break
    r = rows(db, bid)[0]
    assert (r.status, r.attempts) == ("failed", MAX_ATTEMPTS) and "gave up" in r.last_error
    assert sender.calls[r.idempotency_key] == MAX_ATTEMPTS and rows(db, bid)[1].status == "sent"


def test_not_connected_then_connected_sends_once(db: Session) -> None:
    _, bid = setup(db, 2)
    sender = FakeSender(lambda to, n: NotConnected("qr") if sum(sender.calls.values()) == 1 else None)
    clock = Clock()
    assert run_chunk(bid, sender, env=OFF, clock=clock).sent == 0
    clock.now += timedelta(minutes=5)
    assert run_chunk(bid, sender, env=OFF, clock=clock).outcome == "completed"
    assert all(r.status == "sent" for r in rows(db, bid)) and set(sender.deliveries.values()) == {1}


def test_pause_and_cancel_stop_at_the_next_recipient(db: Session) -> None:
    biz, bid = setup(db, 5)

    def pause_after_two(to: str, n: int) -> None:
        if len(sender.sent) == 2:
            with Session(db.get_bind()) as other:
                broadcasts.transition(other, biz, bid, "pause")
                other.commit()
        return None

    sender = FakeSender(pause_after_two)
    assert run_chunk(bid, sender, env=OFF, clock=Clock()).outcome == "stopped"
    assert len(sender.sent) == 3  # the third was claimed before the pause committed
    assert [r.status for r in rows(db, bid)].count("pending") == 2
    broadcasts.transition(db, biz, bid, "resume")
    broadcasts.transition(db, biz, bid, "cancel")
    db.commit()
    assert run_chunk(bid, FakeSender(), env=OFF, clock=Clock()).outcome == "stopped"
    assert [r.status for r in rows(db, bid)] == ["sent"] * 3 + ["skipped"] * 2


def test_a_dead_chunks_sending_recipient_is_sent_again_with_the_same_key(db: Session) -> None:
    _, bid = setup(db, 3)
    sender = FakeSender()
    victim = rows(db, bid)[0]
    # a chunk died after the gateway sent but before the commit: the row still says sending
    sender.send(1, victim.address, "Hello", None, victim.idempotency_key)
    db.execute(update(BroadcastRecipient).where(BroadcastRecipient.id == victim.id).values(status="sending"))
    db.commit()
    assert run_chunk(bid, sender, env=OFF, clock=Clock()).outcome == "completed"
    assert sender.calls[victim.idempotency_key] == 2 and sender.deliveries[victim.idempotency_key] == 1
    assert all(r.status == "sent" for r in rows(db, bid))


def test_a_recipient_is_taken_once(db: Session) -> None:
    _, bid = setup(db, 1)
    biz = db.get(Broadcast, bid).business_id  # type: ignore[union-attr]
    first = store.take(bid, biz, NOW)
    assert first[0] == "claimed" and first[1] is not None
    assert store.take(bid, biz, NOW) == ("none", None)  # sending: nobody else gets it
    _, paused = setup(db, 1, start=False)
    assert store.take(paused, biz, NOW) == ("stopped", None)  # not running: never claimed
