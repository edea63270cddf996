"""Helpers shared by the resource services (pure or Session-only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

__all__ = ["Page", "iso", "page_rows", "paginate"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    def to_json(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": (self.total + self.per_page - 1) // self.per_page,
        }


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def page_rows(session: Session, query: Select[T], page: int, per_page: int) -> tuple[list[T], int]:
    """One page of ``query``'s rows and the total count."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all())
    return rows, int(total)


def paginate(session: Session, query: Select[T], page: int, per_page: int, render: Callable[[T], dict[str, Any]]) -> Page:
    rows, total = page_rows(session, query, page, per_page)
    return Page([render(row) for row in rows], total, page, per_page)
