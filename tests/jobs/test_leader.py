"""The leader lock on a real Redis: tokens, renewal, release, and fenced slot claims."""

from __future__ import annotations

import time

import redis

from jobs.leader import LAST_SLOTS_KEY, LOCK_KEY, TOKEN_KEY, Claim, LeaderLock

TTL_MS = 5000


def test_one_replica_leads_and_its_value_carries_a_fencing_token(shared_redis: redis.Redis) -> None:
    a, b = LeaderLock(shared_redis, "a", TTL_MS), LeaderLock(shared_redis, "b", TTL_MS)
    assert a.acquire()
    assert a.value == "1:a" and a.token == 1
    assert shared_redis.get(LOCK_KEY) == b"1:a"
    assert 0 < shared_redis.pttl(LOCK_KEY) <= TTL_MS
    assert not b.acquire()
    assert b.value is None and b.token is None
    assert shared_redis.get(TOKEN_KEY) == b"1", "a failed attempt takes no token"


def test_renewal_extends_only_our_own_lock(shared_redis: redis.Redis) -> None:
    a = LeaderLock(shared_redis, "a", TTL_MS)
    assert a.acquire()
    shared_redis.pexpire(LOCK_KEY, 100)
    assert a.renew()
    assert shared_redis.pttl(LOCK_KEY) > 1000
    shared_redis.set(LOCK_KEY, "7:someone-else")
    assert not a.renew()
    assert a.value is None
    assert shared_redis.get(LOCK_KEY) == b"7:someone-else"


def test_a_new_leader_after_expiry_gets_a_larger_token(shared_redis: redis.Redis) -> None:
    a, b = LeaderLock(shared_redis, "a", 150), LeaderLock(shared_redis, "b", TTL_MS)
    assert a.acquire()
    time.sleep(0.3)  # a is paused past its TTL: the key expires in Redis
    assert b.acquire()
    assert b.token is not None and a.token is not None and b.token > a.token
    assert not a.renew()


def test_a_paused_old_leader_cannot_claim_a_slot_after_a_takeover(shared_redis: redis.Redis) -> None:
    a, b = LeaderLock(shared_redis, "a", 150), LeaderLock(shared_redis, "b", TTL_MS)
    assert a.acquire()
    assert a.claim("leases", 10) is Claim.CLAIMED
    time.sleep(0.3)
    assert b.acquire()
    # a still believes it leads (it has not renewed since): the claim itself is fenced
    assert a.value is not None
    assert a.claim("leases", 11) is Claim.NOT_LEADER
    assert a.value is None
    assert shared_redis.hget(LAST_SLOTS_KEY, "leases") == b"10"
    assert b.claim("leases", 11) is Claim.CLAIMED
    assert shared_redis.hget(LAST_SLOTS_KEY, "leases") == b"11"


def test_a_slot_is_claimed_once_and_never_moves_backwards(shared_redis: redis.Redis) -> None:
    a = LeaderLock(shared_redis, "a", TTL_MS)
    assert a.acquire()
    assert a.claim("email", 5) is Claim.CLAIMED
    assert a.claim("email", 5) is Claim.DONE
    assert a.claim("email", 4) is Claim.DONE
    assert shared_redis.hget(LAST_SLOTS_KEY, "email") == b"5"


def test_unclaim_gives_a_slot_back_only_if_nothing_moved(shared_redis: redis.Redis) -> None:
    a = LeaderLock(shared_redis, "a", TTL_MS)
    assert a.acquire()
    assert a.claim("email", 5) is Claim.CLAIMED
    assert a.claim("email", 6) is Claim.CLAIMED
    assert a.unclaim("email", 6, 5)
    assert shared_redis.hget(LAST_SLOTS_KEY, "email") == b"5"
    assert not a.unclaim("email", 6, 5), "the slot is no longer 6"
    assert a.claim("cleanup", 1) is Claim.CLAIMED
    assert a.unclaim("cleanup", 1, None)
    assert shared_redis.hget(LAST_SLOTS_KEY, "cleanup") is None


def test_release_deletes_only_our_own_value(shared_redis: redis.Redis) -> None:
    a = LeaderLock(shared_redis, "a", TTL_MS)
    assert a.acquire()
    assert a.release()
    assert shared_redis.get(LOCK_KEY) is None
    assert a.acquire()
    shared_redis.set(LOCK_KEY, "99:b")
    assert not a.release()
    assert shared_redis.get(LOCK_KEY) == b"99:b"


def test_a_leader_cut_off_from_redis_keeps_its_token_if_the_lock_is_still_its_own(shared_redis: redis.Redis) -> None:
    a = LeaderLock(shared_redis, "a", TTL_MS)
    assert a.acquire()
    token = a.token
    a.forget()
    assert a.value is None
    assert a.acquire()
    assert a.token == token
    assert shared_redis.get(TOKEN_KEY) == b"1"
