"""Read another process's CPU time and RSS from ``/proc`` (Linux; no trio).

CPU is ``utime + stime`` from ``/proc/PID/stat`` (clock ticks, usually 10 ms each, so measure
over windows of several seconds); RSS is ``VmRSS`` from ``/proc/PID/status``.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

__all__ = ["ProcSample", "cpu_seconds_self", "sample_process"]


@dataclass(frozen=True, slots=True)
class ProcSample:
    """A snapshot of one process.

    Attributes:
        cpu_s: User + system CPU seconds consumed so far.
        rss_kb: Resident set size in KiB.
    """

    cpu_s: float
    rss_kb: int


def sample_process(pid: int) -> ProcSample | None:
    """Return a snapshot of ``pid``, or None if it is gone or ``/proc`` is unavailable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        with open(f"/proc/{pid}/status", "rb") as fh:
            status = fh.read()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces and ')'; fields after the last ')' are fixed.
    fields = stat[stat.rfind(b")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of the full line)
    rss_kb = 0
    for line in status.splitlines():
        if line.startswith(b"VmRSS:"):
            rss_kb = int(line.split()[1])
            break
    return ProcSample(ticks / os.sysconf("SC_CLK_TCK"), rss_kb)


def cpu_seconds_self() -> float:
    """User + system CPU seconds used by this process."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime
