"""The webhook signature as a receiver checks it (``contracts.webhook_signature.verify``)."""

from __future__ import annotations

import hashlib
import hmac

from contracts.webhook_signature import sign, signature_header, verify

SECRET = "receiver-shared-secret-1234"
BODY = b'{"event":"lead_created","id":"abc"}'
NOW = 1_796_000_000


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1796000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == expected
    assert signature_header(SECRET, NOW, BODY) == f"v1={expected}"


def test_a_good_signature_verifies() -> None:
    assert verify(SECRET, BODY, str(NOW), signature_header(SECRET, NOW, BODY), now=NOW + 10)


def test_bad_signatures_are_refused() -> None:
    good = signature_header(SECRET, NOW, BODY)
    assert not verify("another-secret-entirely", BODY, str(NOW), good, now=NOW)  # wrong key
    assert not verify(SECRET, BODY + b" ", str(NOW), good, now=NOW)  # body changed
    assert not verify(SECRET, BODY, str(NOW + 1), good, now=NOW)  # timestamp changed
    assert not verify(SECRET, BODY, str(NOW), good.replace("v1=", "v0="), now=NOW)  # unknown scheme
    assert not verify(SECRET, BODY, str(NOW), "v1=" + "0" * 64, now=NOW)
    assert not verify(SECRET, BODY, str(NOW), "", now=NOW)
    assert not verify(SECRET, BODY, "soon", good, now=NOW)
    assert not verify(SECRET, BODY, str(NOW), "v1=ünïcode", now=NOW)


def test_an_old_or_future_timestamp_is_refused_as_a_replay() -> None:
    good = signature_header(SECRET, NOW, BODY)
    assert verify(SECRET, BODY, str(NOW), good, now=NOW + 300)
    assert not verify(SECRET, BODY, str(NOW), good, now=NOW + 301)
    assert not verify(SECRET, BODY, str(NOW), good, now=NOW - 301)
    assert verify(SECRET, BODY, str(NOW), good, now=NOW + 3000, tolerance_seconds=3600)


def test_one_of_several_signatures_may_match() -> None:
    header = "v1=" + "f" * 64 + ", " + signature_header(SECRET, NOW, BODY)
    assert verify(SECRET, BODY, str(NOW), header, now=NOW)
