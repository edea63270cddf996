"""Job payloads (contracts/job_payloads.py): what an enqueuer writes is what the job reads, and
every malformed payload is a permanent failure naming the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from contracts.call_record import RecordError
from contracts.job_payloads import (
    AccountRef,
    AttachmentRef,
    CallRef,
    DeliveryRef,
    PayloadError,
    read_account_ref,
    read_attachment_ref,
    read_call_ref,
    read_delivery_ref,
)
from contracts.jobs import JOB_SPECS, PermanentJobError

ROUND_TRIPS: list[tuple[Any, Callable[[object], Any]]] = [
    (CallRef("CA123"), read_call_ref),
    (DeliveryRef(17), read_delivery_ref),
    (AccountRef(3), read_account_ref),
    (AttachmentRef(9), read_attachment_ref),
]


@pytest.mark.parametrize(("ref", "reader"), ROUND_TRIPS)
def test_writer_output_through_json_is_what_the_reader_accepts(ref: Any, reader: Callable[[object], Any]) -> None:
    assert reader(json.loads(json.dumps(ref.to_dict()))) == ref


@pytest.mark.parametrize(("ref", "reader"), ROUND_TRIPS)
def test_unknown_keys_are_ignored(ref: Any, reader: Callable[[object], Any]) -> None:
    assert reader({**ref.to_dict(), "added_later": True}) == ref


@pytest.mark.parametrize("reader", [reader for _, reader in ROUND_TRIPS])
@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (None, "expected a JSON object"),
        ([1], "expected a JSON object"),
        ({}, "version"),
        ({"version": "1"}, "version"),
        ({"version": True}, "version"),
        ({"version": 2}, "newer"),
        ({"version": 1}, "expected a"),  # the id field is missing
    ],
)
def test_bad_payloads_are_permanent_errors(reader: Callable[[object], Any], payload: object, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem) as caught:
        reader(payload)
    assert isinstance(caught.value, PermanentJobError)


@pytest.mark.parametrize(
    ("reader", "payload"),
    [
        (read_call_ref, {"version": 1, "call_sid": ""}),
        (read_call_ref, {"version": 1, "call_sid": 5}),
        (read_delivery_ref, {"version": 1, "delivery_id": 0}),
        (read_delivery_ref, {"version": 1, "delivery_id": "7"}),
        (read_account_ref, {"version": 1, "account_id": True}),
        (read_attachment_ref, {"version": 1, "attachment_id": -1}),
    ],
)
def test_bad_fields_are_named(reader: Callable[[object], Any], payload: dict[str, Any]) -> None:
    field = next(key for key in payload if key != "version")
    with pytest.raises(PayloadError, match=field):
        reader(payload)


def test_a_bad_call_record_is_a_permanent_error_too() -> None:
    assert issubclass(RecordError, PermanentJobError)


def test_specs_are_keyed_by_their_function_and_sane() -> None:
    for name, spec in JOB_SPECS.items():
        assert spec.name == name and name.startswith("jobs.")
        assert spec.timeout_seconds > 0
        assert all(interval > 0 for interval in spec.retry_intervals)
