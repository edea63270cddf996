from __future__ import annotations

from contracts.call_token import mint_call_token, verify_call_token


def test_token_is_bound_to_secret_and_call():
    token = mint_call_token("s3cret", "CA1")
    assert verify_call_token("s3cret", "CA1", token)
    assert not verify_call_token("s3cret", "CA2", token)
    assert not verify_call_token("other", "CA1", token)
    assert not verify_call_token("s3cret", "CA1", None)
    assert not verify_call_token("s3cret", "CA1", "")


def test_a_non_ascii_or_unencodable_token_is_wrong_not_an_error():
    # hmac.compare_digest raises TypeError for a str with non-ASCII characters; the token
    # comes from the caller's side of a media stream, so it must simply fail to verify.
    token = mint_call_token("s3cret", "CA1")
    for bad in ("é" + token[1:], "токен", "\ud800" * 64, token[:-1] + "١"):
        assert not verify_call_token("s3cret", "CA1", bad)
