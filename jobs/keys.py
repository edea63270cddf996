"""Queue names (DESIGN.md §5); nothing else spells them."""

from __future__ import annotations

__all__ = ["ALL_QUEUES", "BROADCASTS", "DEFAULT", "HIGH", "LOW"]

HIGH = "high"  # finalize_call, outbound webhooks
DEFAULT = "default"
LOW = "low"
BROADCASTS = "broadcasts"
ALL_QUEUES = (HIGH, DEFAULT, LOW, BROADCASTS)
