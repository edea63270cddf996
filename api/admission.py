"""Webhook-side admission: one Redis round trip decides busy-or-connect and stores the setup.

The Lua script reads the cluster gauge (``calls:active_count`` vs ``calls:capacity``, which
counts only live, non-draining calls instances) and the business's calls: its live leases
(``ZCOUNT calls:business:{id}:active now +inf``, so expired leases of a crashed instance do
not count) plus the calls admitted here whose stream has not started yet
(``calls:business:{id}:pending``, each for ``ADMIT_PENDING_MS``; an entry leaves as soon as its
call holds a lease or has ended). Without the second set a burst of webhooks all passed before
the first stream started, and a business with a limit of 5 got 10 calls. It then either records
a ``rejected`` event on ``calls:events`` or stores the call setup with its TTL and the pending
entry. Atomic, so a refusal never leaves a setup behind and two webhooks never share a slot.

The script touches per-call keys it derives from the pending set (``calls:ended:{sid}``), so it
needs a single Redis node (as everything here does), not Redis Cluster.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from contracts import keys as call_keys

if TYPE_CHECKING:
    import redis

__all__ = ["ADMIT_SCRIPT", "admit", "publish_rejected"]

ADMIT_SCRIPT: Final = """
local now = tonumber(ARGV[1])
local sid = ARGV[5]
local reason = nil
local cap = tonumber(redis.call('GET', KEYS[2]) or '0')
local active = tonumber(redis.call('GET', KEYS[1]) or '0')
if cap == nil or cap <= 0 then
  reason = 'no_capacity'
elseif active ~= nil and active >= cap then
  reason = 'capacity'
else
  local limit = tonumber(ARGV[2])
  if limit > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
    local pending = 0
    for _, other in ipairs(redis.call('ZRANGE', KEYS[6], 0, -1)) do
      if redis.call('ZSCORE', KEYS[3], other) or redis.call('EXISTS', ARGV[8] .. other) == 1 then
        redis.call('ZREM', KEYS[6], other)
      elseif other ~= sid then
        pending = pending + 1
      end
    end
    local live = redis.call('ZCOUNT', KEYS[3], now, '+inf')
    local own = redis.call('ZSCORE', KEYS[3], sid)
    if own and tonumber(own) >= now then live = live - 1 end
    if live + pending >= limit then
      reason = 'business_limit'
    end
  end
end
if reason then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[6], '*', 'type', 'rejected', 'ts', ARGV[1],
             'source', 'api', 'call_sid', sid, 'business_id', ARGV[7], 'reason', reason)
  return reason
end
redis.call('SET', KEYS[4], ARGV[3], 'EX', ARGV[4])
if not redis.call('ZSCORE', KEYS[3], sid) then
  redis.call('ZADD', KEYS[6], now + tonumber(ARGV[9]), sid)
  redis.call('PEXPIRE', KEYS[6], ARGV[9])
end
return 'ok'
"""


def admit(
    client: redis.Redis, *, call_sid: str, business_id: int, limit: int, setup_json: str, ttl_seconds: int
) -> str | None:
    """Run the script (sync; call in a thread). Returns the refusal reason, or ``None`` when
    the setup was stored and the call may connect.

    Raises:
        redis.RedisError: Redis unreachable (the caller decides; nothing was written).
    """
    now_ms = int(time.time() * 1000)
    result = client.eval(
        ADMIT_SCRIPT,
        6,
        call_keys.ACTIVE_COUNT,
        call_keys.CAPACITY,
        call_keys.business_active(str(business_id)),
        call_keys.call_setup(call_sid),
        call_keys.EVENTS,
        call_keys.business_pending(str(business_id)),
        now_ms,
        limit,
        setup_json,
        ttl_seconds,
        call_sid,
        call_keys.EVENTS_MAXLEN,
        str(business_id),
        call_keys.call_ended(""),
        call_keys.ADMIT_PENDING_MS,
    )
    reason = result.decode() if isinstance(result, bytes) else str(result)
    return None if reason == "ok" else reason


def publish_rejected(client: redis.Redis, fields: dict[str, str]) -> None:
    event = {"type": "rejected", "ts": str(int(time.time() * 1000)), "source": "api", **fields}
    client.xadd(call_keys.EVENTS, event, maxlen=call_keys.EVENTS_MAXLEN, approximate=True)  # type: ignore[arg-type]
