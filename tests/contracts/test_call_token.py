from __future__ import annotations

from contracts.call_token import mint_call_token, verify_call_token


def test_token_is_bound_to_secret_and_call():
    token = mint_call_token("s3cret", "CA1")
    assert verify_call_token("s3cret", "CA1", token)
    assert not verify_call_token("s3cret", "CA2", token)
    assert not verify_call_token("other", "CA1", token)
    assert not verify_call_token("s3cret", "CA1", None)
    assert not verify_call_token("s3cret", "CA1", "")
