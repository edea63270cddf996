"""The scheduler's leader lock: one Redis key, a fencing token, fenced slot claims.

Acquiring takes a fresh token from a counter (``INCR``) and stores ``"{token}:{replica}"`` in
the lock key with a TTL, in one Lua script; the holder renews it with a check-and-extend
script and deletes it only while it still holds its own value. A holder that stops renewing
(killed, paused, cut off from Redis) loses the key when the TTL runs out, and another replica
takes it with a larger token.

A paused old leader may still *believe* it leads, so every slot is claimed by a script that
checks, in the same atomic step, that the lock still carries this replica's value: once a new
leader took over, the old one's claims fail and it enqueues nothing (docs/ARCHITECTURE.md §5).
The slot-derived job id is the second line of defence.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING, final

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["HEARTBEAT_PREFIX", "LAST_SLOTS_KEY", "LOCK_KEY", "TOKEN_KEY", "Claim", "LeaderLock"]

log = logging.getLogger(__name__)

LOCK_KEY = "scheduler:leader"  # string "{token}:{replica}", PX = the lock TTL
TOKEN_KEY = "scheduler:leader:token"  # counter: every acquisition takes the next token
LAST_SLOTS_KEY = "scheduler:last_slot"  # HASH entry name -> last slot enqueued
HEARTBEAT_PREFIX = "scheduler:replica:"  # + replica id: each replica's heartbeat (TTL)

# Take the lock if it is free (a new token), or keep it if it is still ours.
ACQUIRE_LUA = """
local current = redis.call('GET', KEYS[1])
if current then
  if current == ARGV[3] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return current
  end
  return false
end
local token = redis.call('INCR', KEYS[2])
local value = token .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
"""

# Extend the TTL only while the lock still holds our value.
RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# The fenced claim: -1 not the leader (any more), 0 slot already claimed, 1 claimed by us.
CLAIM_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local last = redis.call('HGET', KEYS[2], ARGV[2])
if last and tonumber(last) ~= nil and tonumber(last) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

# Give a claimed slot back after its enqueue failed, if nothing moved since (still leader,
# still our slot): the next pass claims it again.
UNCLAIM_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return 0 end
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[2], ARGV[2])
else
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
end
return 1
"""


class Claim(StrEnum):
    """What a fenced claim of a slot found."""

    CLAIMED = "claimed"  # ours: enqueue it
    DONE = "done"  # this slot (or a later one) was claimed already
    NOT_LEADER = "not_leader"  # the lock holds another value: enqueue nothing


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


@final
class LeaderLock:
    """One replica's handle on the leader lock.

    ``value`` is ``"{token}:{replica}"`` while this replica believes it leads, else None.
    Every method raises ``redis.exceptions.RedisError`` when Redis is unreachable.
    """

    def __init__(self, client: Redis, replica_id: str, ttl_ms: int) -> None:
        if ":" in replica_id or not replica_id:
            raise ValueError("replica_id must be non-empty without ':'")
        self._client = client
        self.replica_id = replica_id
        self.ttl_ms = ttl_ms
        self.value: str | None = None
        self._acquire = client.register_script(ACQUIRE_LUA)
        self._renew = client.register_script(RENEW_LUA)
        self._release = client.register_script(RELEASE_LUA)
        self._claim = client.register_script(CLAIM_LUA)
        self._unclaim = client.register_script(UNCLAIM_LUA)
        self._last_value: str = ""  # kept across a Redis outage: the lock may still be ours

    @property
    def token(self) -> int | None:
        """The fencing token of the lock this replica holds (None when not leading)."""
        return int(self.value.split(":", 1)[0]) if self.value else None

    def acquire(self) -> bool:
        """Take the lock if it is free (or still ours); True if this replica now leads."""
        got = _text(self._acquire(keys=[LOCK_KEY, TOKEN_KEY], args=[self.replica_id, self.ttl_ms, self._last_value]))
        self.value = got
        if got is not None:
            self._last_value = got
        return got is not None

    def renew(self) -> bool:
        """Extend the TTL; False (and ``value`` cleared) when the lock is no longer ours."""
        if self.value is None:
            return False
        if int(self._renew(keys=[LOCK_KEY], args=[self.value, self.ttl_ms])) == 1:
            return True
        self.value = None
        self._last_value = ""
        return False

    def release(self) -> bool:
        """Delete the lock if it is still ours (a clean shutdown: the other replica takes over
        at once instead of after the TTL)."""
        value, self.value, self._last_value = self.value, None, ""
        if value is None:
            return False
        return int(self._release(keys=[LOCK_KEY], args=[value])) == 1

    def forget(self) -> None:
        """Stop believing we lead (Redis is unreachable), but keep the value: if the lock is
        still ours when Redis answers again, ``acquire`` keeps it with the same token."""
        self.value = None

    def claim(self, entry: str, slot: int) -> Claim:
        """Record ``slot`` as the last slot of ``entry``, only while this replica holds the lock."""
        if self.value is None:
            return Claim.NOT_LEADER
        result = int(self._claim(keys=[LOCK_KEY, LAST_SLOTS_KEY], args=[self.value, entry, slot]))
        if result == -1:
            self.value = None
            self._last_value = ""
            return Claim.NOT_LEADER
        return Claim.CLAIMED if result == 1 else Claim.DONE

    def unclaim(self, entry: str, slot: int, previous: int | None) -> bool:
        """Put ``entry``'s last slot back to ``previous`` if it is still ``slot`` and we lead."""
        if self.value is None:
            return False
        args: list[str | int] = [self.value, entry, slot, "" if previous is None else previous]
        return int(self._unclaim(keys=[LOCK_KEY, LAST_SLOTS_KEY], args=args)) == 1
