from __future__ import annotations

import pytest

from contracts.browser_access import (
    ACCESS_VERSION,
    AccessGrant,
    AccessRefusal,
    mint_access_token,
    verify_access_token,
)
from contracts.call_token import mint_call_token, verify_call_token

SECRET = "internal-s3cret"
SID = "CA" + "ab12" * 8
OTHER_SID = "CA" + "cd34" * 8
NOW = 1_800_000_000


def token(expires_at: int = NOW + 60, sid: str = SID, business: str = "42") -> str:
    return mint_access_token(SECRET, sid, business, expires_at)


def test_a_fresh_token_grants_its_call_and_business():
    grant = verify_access_token(SECRET, token(), now=NOW, call_sid=SID)
    assert grant == AccessGrant(SID, "42", NOW + 60)
    assert verify_access_token(SECRET, token(), now=NOW) == grant  # any call: the server reads it
    assert token().startswith(ACCESS_VERSION + ".")


def test_expired_at_and_after_its_expiry():
    assert verify_access_token(SECRET, token(NOW + 1), now=NOW + 0.999) == AccessGrant(SID, "42", NOW + 1)
    assert verify_access_token(SECRET, token(NOW + 1), now=NOW + 1) is AccessRefusal.EXPIRED
    assert verify_access_token(SECRET, token(NOW - 5), now=NOW) is AccessRefusal.EXPIRED


def test_another_calls_token_is_refused():
    assert verify_access_token(SECRET, token(sid=OTHER_SID), now=NOW, call_sid=SID) is AccessRefusal.WRONG_CALL


def test_every_tampered_field_breaks_the_signature():
    good = token()
    version, sid, business, expires, mac = good.split(".")
    forged = [
        f"{version}.{OTHER_SID}.{business}.{expires}.{mac}",  # another call
        f"{version}.{sid}.43.{expires}.{mac}",  # another business
        f"{version}.{sid}.{business}.{int(expires) + 3600}.{mac}",  # a longer life
        f"{version}.{sid}.{business}.{expires}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
    ]
    for bad in forged:
        assert verify_access_token(SECRET, bad, now=NOW) is AccessRefusal.SIGNATURE, bad
    assert verify_access_token("another secret", good, now=NOW) is AccessRefusal.SIGNATURE
    assert verify_access_token("", good, now=NOW) is AccessRefusal.SIGNATURE


def test_forged_expired_token_is_a_signature_failure_not_expiry():
    version, sid, business, expires, mac = token(NOW - 10).split(".")
    assert verify_access_token(SECRET, f"{version}.{sid}.{business}.{expires}.{'0' * 64}", now=NOW) is AccessRefusal.SIGNATURE


@pytest.mark.parametrize(
    "bad",
    ["v1", "v1.CA1.42.1.ab", "v1.b.c.d.e", "v1." + SID + ".42.x." + "0" * 64, "v1." + SID + ".-1.9." + "0" * 64,
     "v1." + SID.upper() + ".42.9." + "0" * 64, "x" * 300],
)
def test_malformed_tokens(bad: str):
    assert verify_access_token(SECRET, bad, now=NOW) is AccessRefusal.MALFORMED


def test_missing_unknown_version_and_non_ascii():
    assert verify_access_token(SECRET, None, now=NOW) is AccessRefusal.MISSING
    assert verify_access_token(SECRET, "", now=NOW) is AccessRefusal.MISSING
    assert verify_access_token(SECRET, "v2" + token()[2:], now=NOW) is AccessRefusal.VERSION
    assert verify_access_token(SECRET, "a.b.c.d.e", now=NOW) is AccessRefusal.VERSION
    good = token()
    for bad in ("é" + good[1:], good[:-1] + "١", "\ud800" * 40, good.replace("42", "４２")):
        assert verify_access_token(SECRET, bad, now=NOW) is AccessRefusal.MALFORMED, bad


def test_access_token_and_stream_token_never_stand_in_for_each_other():
    access_mac = token().split(".")[-1]
    assert not verify_call_token(SECRET, SID, access_mac)
    stream = mint_call_token(SECRET, SID)
    version, sid, business, expires, _mac = token().split(".")
    assert verify_access_token(SECRET, f"{version}.{sid}.{business}.{expires}.{stream}", now=NOW) is AccessRefusal.SIGNATURE


def test_minting_refuses_what_it_could_not_verify():
    for args in ((SECRET, "CA1", "42", NOW), (SECRET, SID, "b1", NOW), (SECRET, SID, "42", 0), ("", SID, "42", NOW)):
        with pytest.raises(ValueError):
            mint_access_token(*args)
