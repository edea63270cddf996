from __future__ import annotations

import pytest

from callengine.admission import Admission
from callengine.errors import AdmissionRefused


async def test_admission_rejects_when_full_and_counts():
    admission = Admission(2)
    a, b = admission.try_admit_nowait(), admission.try_admit_nowait()
    with pytest.raises(AdmissionRefused, match="full"):
        admission.try_admit_nowait()
    stats = admission.statistics()
    assert (stats.active, stats.capacity, stats.refused["full"]) == (2, 2, 1)
    assert set(admission.borrowers()) == {a, b}
    admission.release(a)
    admission.try_admit_nowait()


async def test_admission_refuses_while_draining():
    admission = Admission(5)
    admission.draining = True
    with pytest.raises(AdmissionRefused, match="draining"):
        admission.try_admit_nowait()
    assert admission.statistics().refused["draining"] == 1
    assert admission.statistics().active == 0


async def test_double_release_is_an_error_not_a_leak():
    admission = Admission(1)
    ticket = admission.try_admit_nowait()
    admission.release(ticket)
    with pytest.raises(RuntimeError):
        admission.release(ticket)


def test_a_call_sid_is_claimed_once_until_released():
    admission = Admission(2)
    assert admission.claim_call_sid("CA1")
    assert not admission.claim_call_sid("CA1")  # a second stream for a live call
    assert admission.claim_call_sid("CA2")
    admission.release_call_sid("CA1")
    assert admission.claim_call_sid("CA1")
