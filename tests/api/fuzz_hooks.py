"""Schemathesis hooks for ``tests/api/test_fuzz.py`` (loaded with ``SCHEMATHESIS_HOOKS``).

Schemathesis generates values from the OpenAPI document, which bounds them (ids ≤ 2**31 - 1,
text without control characters is likely): alone it would not have found issue 10's inputs.
These hooks turn each generated body, query and path parameters into one of: itself, itself
with one string holding a NUL byte, with one integer beyond int64, or (bodies) nested far
deeper than the API accepts.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st

__all__ = ["deeply_nested", "flatmap_body", "flatmap_path_parameters", "flatmap_query", "leaves", "replaced", "with_nul"]

HUGE = 99999999999999999999  # > 2**64: SQLite's OverflowError, Postgres's out of range
DEPTH = 200  # far past the API's bound (32), well inside the fuzzer's own json.dumps limit


def leaves(value: Any, kind: type, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of the ``kind`` values in a JSON value (bools are not ints here)."""
    if isinstance(value, kind) and not isinstance(value, bool):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves(v, kind, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaves(v, kind, (*path, i))]
    return []


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """``value`` with the leaf at ``path`` replaced by ``new(leaf)`` (a copy)."""
    if not path:
        return new(value)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: replaced(v, rest, new) if k == head else v for k, v in value.items()}
    return [replaced(v, rest, new) if i == head else v for i, v in enumerate(value)]


def with_nul(text: str) -> str:
    return text[:1] + "\x00" + text[1:]


def deeply_nested(value: Any) -> Any:
    for _ in range(DEPTH):
        value = [value]
    return value


def _variants(value: Any, *, nest: bool) -> st.SearchStrategy[Any]:
    """The value itself, or one of its strings with a NUL, or one of its integers huge (one
    at a time: poisoning every field at once would only ever meet the first validator), or
    (bodies) nested far too deep."""
    choices: list[st.SearchStrategy[Any]] = [st.just(value)]
    texts, numbers = leaves(value, str), leaves(value, int)
    if texts:
        choices.append(st.sampled_from(texts).map(lambda p: replaced(value, p, with_nul)))
    if numbers:
        choices.append(st.sampled_from(numbers).map(lambda p: replaced(value, p, lambda _: HUGE)))
    if nest:
        choices.append(st.just(deeply_nested(value)))
    return st.one_of(choices)


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    if not isinstance(body, dict | list | str | int | float | None):  # raw bytes of another media type
        return st.just(body)
    return _variants(body, nest=True)


@schemathesis.hook
def flatmap_query(context: Any, query: Any) -> st.SearchStrategy[Any]:
    return _variants(query, nest=False) if isinstance(query, dict) else st.just(query)


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    return _variants(path_parameters, nest=False)
