"""What crosses a service boundary, defined once: every service imports this package.

- ``contracts.call_setup``: the call setup (voice webhook → Redis → calls service).
- ``contracts.call_record``: the call record (calls service → ``finalize_call`` → API data).
- ``contracts.jobs``: job specs, so a service enqueues a job by name without its code.
- ``contracts.keys``: Redis key names and RQ queue names.
- ``contracts.call_token``: the per-call token binding a media stream to its webhook.
- ``contracts.envvars``: the environment reader, ``Secret`` and the variables all services share.

Pure: no trio, Redis, RQ, Quart or SQLAlchemy, and no import of ``api``, ``callengine`` or
``jobs`` (``tests/test_boundaries.py`` checks both). See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from contracts.call_record import RECORD_VERSION, CallRecord, DtmfPress, RecordError, read_record
from contracts.call_setup import (
    SETUP_VERSION,
    CallSetup,
    Direction,
    LeadRef,
    MenuOption,
    SetupReading,
    read_setup,
)
from contracts.jobs import FINALIZE_CALL, JobSpec, finalize_job_id

__all__ = [
    "FINALIZE_CALL",
    "RECORD_VERSION",
    "SETUP_VERSION",
    "CallRecord",
    "CallSetup",
    "Direction",
    "DtmfPress",
    "JobSpec",
    "LeadRef",
    "MenuOption",
    "RecordError",
    "SetupReading",
    "finalize_job_id",
    "read_record",
    "read_setup",
]
