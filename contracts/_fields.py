"""Field readers shared by the contract readers (internal to ``contracts``).

Each reads one field of a decoded JSON object, appends a problem instead of raising, and
returns a usable default, so a reader can name every problem of a payload at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["read_object"]


def read_object(data: Mapping[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    """``data[name]`` as a dict: absent or null is ``{}``; anything but an object is a problem."""
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{name}: expected an object")
        return {}
    return dict(value)
