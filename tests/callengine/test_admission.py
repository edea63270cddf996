from __future__ import annotations

import pytest

from callengine.admission import Admission, Ticket
from callengine.errors import AdmissionRefused
from callengine.events import RefusalReason


def admit_and_start(admission: Admission, call_sid: str) -> Ticket:
    ticket = admission.try_admit_nowait()
    assert admission.start_nowait(ticket, call_sid)
    return ticket


async def test_admission_rejects_when_full_and_counts():
    admission = Admission(2)
    a, b = admit_and_start(admission, "CA1"), admit_and_start(admission, "CA2")
    with pytest.raises(AdmissionRefused, match="full"):
        admission.try_admit_nowait()
    stats = admission.statistics()
    assert (stats.active, stats.capacity, stats.refused["full"]) == (2, 2, 1)
    assert set(admission.borrowers()) == {a, b}
    admission.release(a)
    admission.try_admit_nowait()


async def test_handshakes_waiting_for_start_take_no_call_slot_and_have_their_own_cap():
    admission = Admission(1, max_pending=2)
    waiting = [admission.try_admit_nowait(), admission.try_admit_nowait()]
    with pytest.raises(AdmissionRefused, match="pending_full"):
        admission.try_admit_nowait()
    stats = admission.statistics()
    assert (stats.active, stats.pending, stats.max_pending) == (0, 2, 2)
    assert stats.refused["pending_full"] == 1
    assert admission.start_nowait(waiting[0], "CA1")  # the call slot was never taken
    assert (admission.statistics().active, admission.statistics().pending) == (1, 1)
    # the other one starts too late: the only call slot is taken; it stays pending
    assert not admission.start_nowait(waiting[1], "CA2")
    assert (admission.statistics().active, admission.statistics().pending) == (1, 1)
    for ticket in waiting:
        admission.release(ticket)
    assert (admission.statistics().active, admission.statistics().pending) == (0, 0)


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


def test_every_admission_and_refusal_is_counted_once_for_health() -> None:
    """``/health`` shows these counters (admitted_total, refused by reason): each decision adds
    exactly one, to its own reason, and nothing else moves."""
    admission = Admission(2, max_pending=1)
    assert admission.statistics().admitted_total == 0
    assert set(admission.statistics().refused.values()) == {0}
    first = admission.try_admit_nowait()
    with pytest.raises(AdmissionRefused):
        admission.try_admit_nowait()  # the one pending place is taken
    assert admission.start_nowait(first, "CA1")
    second = admission.try_admit_nowait()
    assert admission.start_nowait(second, "CA2")
    for _ in range(2):
        with pytest.raises(AdmissionRefused):
            admission.try_admit_nowait()  # both call slots are taken
    admission.count_refusal(RefusalReason.TOKEN)
    admission.count_refusal(RefusalReason.TOKEN)
    admission.draining = True
    with pytest.raises(AdmissionRefused):
        admission.try_admit_nowait()
    stats = admission.statistics()
    assert stats.admitted_total == 2
    counted = {reason: n for reason, n in stats.refused.items() if n}
    assert counted == {"pending_full": 1, "full": 2, "token": 2, "draining": 1}
