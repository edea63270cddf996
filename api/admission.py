"""Webhook-side admission: one Redis round trip decides busy-or-connect and stores the setup.

The Lua script reads the cluster gauge (``calls:active_count`` vs ``calls:capacity``, which
counts only live, non-draining calls instances) and the business's live leases
(``ZCOUNT calls:business:{id}:active now +inf``, so expired leases of a crashed instance do
not count), then either records a ``rejected`` event on ``calls:events`` or stores the call
setup with its TTL. Atomic, so a refusal never leaves a setup behind.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from contracts import keys as call_keys

if TYPE_CHECKING:
    import redis

__all__ = ["ADMIT_SCRIPT", "admit", "publish_rejected"]

ADMIT_SCRIPT: Final = """
local reason = nil
local cap = tonumber(redis.call('GET', KEYS[2]) or '0')
local active = tonumber(redis.call('GET', KEYS[1]) or '0')
if cap == nil or cap <= 0 then
  reason = 'no_capacity'
elseif active ~= nil and active >= cap then
  reason = 'capacity'
else
  local limit = tonumber(ARGV[2])
  if limit > 0 and redis.call('ZCOUNT', KEYS[3], ARGV[1], '+inf') >= limit then
    reason = 'business_limit'
  end
end
if reason then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[6], '*', 'type', 'rejected', 'ts', ARGV[1],
             'source', 'api', 'call_sid', ARGV[5], 'business_id', ARGV[7], 'reason', reason)
  return reason
end
redis.call('SET', KEYS[4], ARGV[3], 'EX', ARGV[4])
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
        5,
        call_keys.ACTIVE_COUNT,
        call_keys.CAPACITY,
        call_keys.business_active(str(business_id)),
        call_keys.call_setup(call_sid),
        call_keys.EVENTS,
        now_ms,
        limit,
        setup_json,
        ttl_seconds,
        call_sid,
        call_keys.EVENTS_MAXLEN,
        str(business_id),
    )
    reason = result.decode() if isinstance(result, bytes) else str(result)
    return None if reason == "ok" else reason


def publish_rejected(client: redis.Redis, fields: dict[str, str]) -> None:
    event = {"type": "rejected", "ts": str(int(time.time() * 1000)), "source": "api", **fields}
    client.xadd(call_keys.EVENTS, event, maxlen=call_keys.EVENTS_MAXLEN, approximate=True)  # type: ignore[arg-type]
