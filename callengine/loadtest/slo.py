"""Service-level objectives for a run: ``--slo KEY=VALUE`` parsing and checking (pure).

``KEY=VALUE`` uses the key's natural direction: an upper bound for latencies, counts of bad
things and resource use (``failed=0``, ``barge_in_p99_ms=250``), a lower bound for good things
(``connected``, ``completed``, ``lead_p1_ms`` …). ``KEY<=VALUE`` and ``KEY>=VALUE`` force it.
A metric with no data (e.g. no barge-in was measured) violates its objective.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from callengine.loadtest.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["HIGHER_IS_BETTER", "SloCheck", "SloSpec", "check_slos", "parse_slo"]

# Keys where more is better, so ``KEY=VALUE`` means ``>=``.
HIGHER_IS_BETTER: Final = frozenset(
    {"attempted", "connected", "completed", "marks_echoed", "barge_ins", "outbound_media", "lead_p1_ms", "lead_p50_ms"}
)


@dataclass(frozen=True, slots=True)
class SloSpec:
    """One objective: ``key op target`` with ``op`` in ``<=`` / ``>=``."""

    key: str
    op: str
    target: float

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.target:g}"


@dataclass(frozen=True, slots=True)
class SloCheck:
    """The outcome of checking one objective."""

    spec: SloSpec
    actual: float | None
    ok: bool

    def describe(self) -> str:
        """Human form, e.g. ``barge_in_p99_ms=312.4 (want <=250)``."""
        actual = "no data" if self.actual is None else f"{self.actual:g}"
        return f"{self.spec.key}={actual} (want {self.spec.op}{self.spec.target:g})"


def parse_slo(text: str, known: Iterable[str] | None = None) -> SloSpec:
    """Parse ``KEY=VALUE``, ``KEY<=VALUE`` or ``KEY>=VALUE``.

    Args:
        text: The option value.
        known: Valid keys; when given, unknown keys are rejected.

    Raises:
        ConfigError: On a malformed spec, a non-numeric value or an unknown key.
    """
    op: str | None = None
    for token in ("<=", ">=", "="):
        key, sep, value = text.partition(token)
        if sep:
            op = None if token == "=" else token
            break
    else:
        raise ConfigError(f"--slo {text!r}: expected KEY=VALUE")
    key = key.strip()
    if op is None:
        op = ">=" if key in HIGHER_IS_BETTER else "<="
    try:
        target = float(value)
    except ValueError as exc:
        raise ConfigError(f"--slo {text!r}: {value!r} is not a number") from exc
    if known is not None:
        valid = set(known)
        if key not in valid:
            raise ConfigError(f"--slo {text!r}: unknown key; known keys: {', '.join(sorted(valid))}")
    return SloSpec(key, op, target)


def check_slos(specs: Sequence[SloSpec], metrics: Mapping[str, float | None]) -> list[SloCheck]:
    """Evaluate ``specs`` against the flat metrics of a run."""
    out = []
    for spec in specs:
        actual = metrics.get(spec.key)
        if actual is None:
            ok = False
        elif spec.op == "<=":
            ok = actual <= spec.target
        else:
            ok = actual >= spec.target
        out.append(SloCheck(spec, actual, ok))
    return out
