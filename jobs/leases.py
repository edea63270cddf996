"""Reconcile the calls service's Redis leases when no live instance does it (docs/ARCHITECTURE.md §3).

Each calls instance renews its calls' leases in ``calls:active`` every 2 s, prunes expired
ones and rewrites ``calls:active_count`` in one Lua script; it prunes a business's lease set
only when it touches that business, and drops dead instances from ``calls:instances`` only
while it heartbeats. So when every instance is gone (or a business's calls all ended on a
crashed one), stale leases, gauges and instance ids stay forever. This job does the same
pruning, from outside, in one Lua script of the same shape: it runs atomically between two
heartbeats, never half-way through one, so it cannot race a live calls service.

Leases are stamped with the calls host's clock; only leases expired more than
``GRACE_MS`` ago are removed, so a worker clock a few seconds ahead cannot drop live calls
(a live lease always lies at least 13 s in the future on its own host).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypedDict

from contracts import keys

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["GRACE_MS", "LeaseReport", "reconcile_leases"]

log = logging.getLogger(__name__)

GRACE_MS = 5_000

# KEYS: 1 calls:active, 2 calls:active_count, 3 calls:instances, 4 calls:capacity,
#       5.. the per-business lease sets. ARGV: 1 cutoff (ms), 2 the instance hash prefix.
RECONCILE_LUA = """
local cutoff = ARGV[1]
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
local business = 0
for i = 5, #KEYS do
  business = business + redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', cutoff)
  for _, sid in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do
    if not redis.call('ZSCORE', KEYS[1], sid) then
      business = business + redis.call('ZREM', KEYS[i], sid)
    end
  end
end
local pruned, capacity = 0, 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local h = redis.call('HMGET', ARGV[2] .. id, 'capacity', 'draining')
  if h[1] then
    if h[2] ~= '1' then capacity = capacity + tonumber(h[1]) end
  else
    pruned = pruned + redis.call('SREM', KEYS[3], id)
  end
end
redis.call('SET', KEYS[4], capacity)
local count = redis.call('ZCARD', KEYS[1])
redis.call('SET', KEYS[2], count)
return {expired, business, pruned, count, capacity}
"""


class LeaseReport(TypedDict):
    expired_leases: int  # removed from calls:active
    business_leases: int  # removed from calls:business:{id}:active (expired or orphaned)
    dead_instances: int  # removed from calls:instances (their hash had expired)
    active_count: int  # what calls:active_count now says
    capacity: int  # what calls:capacity now says


def reconcile_leases(client: Redis, now_ms: int, *, grace_ms: int = GRACE_MS) -> LeaseReport:
    """Prune expired leases and dead instances, rewrite the two gauges; returns what changed.

    A per-business lease whose call is no longer in ``calls:active`` is removed too (the
    business sets are subsets of it: the calls service adds to ``calls:active`` first).

    Raises:
        redis.exceptions.RedisError: Redis is unreachable (the job's retry runs it again).
    """
    business_keys = sorted(
        key.decode() if isinstance(key, bytes) else str(key)
        for key in client.scan_iter(match=keys.business_active("*"), count=500)
    )
    script = client.register_script(RECONCILE_LUA)
    result = script(
        keys=[keys.ACTIVE, keys.ACTIVE_COUNT, keys.INSTANCES, keys.CAPACITY, *business_keys],
        args=[now_ms - grace_ms, keys.INSTANCE_PREFIX],
    )
    expired, business, dead, count, capacity = (int(v) for v in result)
    report = LeaseReport(
        expired_leases=expired, business_leases=business, dead_instances=dead,
        active_count=count, capacity=capacity,
    )
    if expired or business or dead:
        log.info(
            "call leases reconciled: %d expired, %d business leases, %d dead instances; active_count=%d capacity=%d",
            expired, business, dead, count, capacity,
        )
    return report
