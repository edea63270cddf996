"""The dashboard's numbers: the database half (calls per hour, rejections, the WhatsApp session)
and the Redis half (live calls, cluster capacity, queue depths).

The two halves are separate functions so the route can answer with the database half while
Redis is down (its numbers are then ``null``, with ``redis_available`` false).

* ``calls_per_hour``: the 24 UTC hours ending with the current one, oldest first, each
  ``{hour, answered, rejected}``; a call counts in the hour its row was created (the voice
  webhook, or the outbound dial). ``answered``: status ``in-progress`` or ``completed``;
  ``rejected``: status ``rejected`` (refused by the voice webhook: capacity, inactive business…).
  Bucketed in Python from one query of the window's rows (the same on SQLite and PostgreSQL:
  no dialect's date function is involved).
* ``rejected_24h``: rejected calls of the last 24 hours by reason (``call.end_reason``).
* ``active_calls``: the business's live leases, ``ZCOUNT calls:business:{id}:active now +inf``
  (an expired lease of a crashed instance does not count), as admission counts them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from api.db.models import Business, Call, CallStatus, WhatsAppSession
from api.errors import NotFound
from contracts import keys as call_keys

if TYPE_CHECKING:
    from redis import Redis
    from sqlalchemy.orm import Session

__all__ = ["ANSWERED", "HOURS", "database_part", "hour_buckets", "hour_start", "live_part", "queue_list"]

HOURS = 24
ANSWERED = frozenset({CallStatus.IN_PROGRESS.value, CallStatus.COMPLETED.value})


def hour_start(moment: datetime) -> datetime:
    """The start of ``moment``'s UTC hour (pure)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_buckets(rows: list[tuple[datetime, str]], now: datetime, hours: int = HOURS) -> list[dict[str, Any]]:
    """Count (created_at, status) rows into the ``hours`` UTC hours ending with ``now``'s (pure).

    A row exactly at an hour's start belongs to that hour; rows outside the window are ignored.
    """
    first = hour_start(now) - timedelta(hours=hours - 1)
    counts = [{"answered": 0, "rejected": 0} for _ in range(hours)]
    for created_at, status in rows:
        index = int((created_at.astimezone(UTC) - first) // timedelta(hours=1))
        if not 0 <= index < hours:
            continue
        if status in ANSWERED:
            counts[index]["answered"] += 1
        elif status == CallStatus.REJECTED:
            counts[index]["rejected"] += 1
    return [{"hour": (first + timedelta(hours=i)).isoformat(), **count} for i, count in enumerate(counts)]


def database_part(session: Session, business_id: int | None, now: datetime) -> dict[str, Any]:
    """The database half; ``business_id`` ``None`` is every business (a system admin's view).

    Raises:
        NotFound: no business ``business_id``.
    """
    business = None
    if business_id is not None:
        business = session.get(Business, business_id)
        if business is None:
            raise NotFound(f"business {business_id} not found", code="business_not_found")
    first = hour_start(now) - timedelta(hours=HOURS - 1)
    scoped = [Call.business_id == business_id] if business_id is not None else []
    rows = session.execute(
        select(Call.created_at, Call.status).where(*scoped, Call.created_at >= first)
    ).all()
    day_ago = now - timedelta(hours=HOURS)
    reasons = session.execute(
        select(Call.end_reason, func.count())
        .where(*scoped, Call.status == CallStatus.REJECTED, Call.created_at >= day_ago)
        .group_by(Call.end_reason)
    ).all()
    whatsapp = None
    if business_id is not None:
        row = session.get(WhatsAppSession, business_id)
        if row is not None:
            whatsapp = {"state": row.state, "phone": row.me_phone,
                        "updated_at": row.reported_at or row.updated_at.isoformat()}
    return {
        "business_id": business_id,
        "max_concurrent_calls": business.max_concurrent_calls if business is not None else None,
        "calls_per_hour": hour_buckets([(r[0], r[1]) for r in rows], now),
        "rejected_24h": {str(reason or "unknown"): int(count) for reason, count in reasons},
        "whatsapp": whatsapp,
    }


def live_part(client: Redis, business_id: int | None, now_ms: int) -> dict[str, Any]:
    """The Redis half: the business's live calls (the cluster's for ``None``) and capacity."""
    with client.pipeline(transaction=False) as pipe:
        pipe.get(call_keys.ACTIVE_COUNT)
        pipe.get(call_keys.CAPACITY)
        if business_id is not None:
            pipe.zcount(call_keys.business_active(str(business_id)), now_ms, "+inf")
        values = pipe.execute()
    active_count = int(values[0]) if values[0] is not None else 0
    capacity = int(values[1]) if values[1] is not None else 0
    return {
        "active_calls": int(values[2]) if business_id is not None else active_count,
        "cluster": {"active_count": active_count, "capacity": capacity},
    }


def queue_list(depths: dict[str, int], dead: int) -> list[dict[str, Any]]:
    """``[{name, depth}]``, most urgent queue first, the dead letters (``failed``) last (pure)."""
    return [{"name": name, "depth": depth} for name, depth in depths.items()] + [
        {"name": call_keys.DEAD_LETTER, "depth": dead}
    ]
