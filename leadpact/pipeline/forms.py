"""Parsing the pages' form posts into service arguments, with clear messages for bad values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.http import QueryDict

from leadpact.common.errors import ApplicationError


def parse_date(raw: str | None, label: str, *, required: bool = True) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise ApplicationError(f"{label} is required.")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApplicationError(f"{label} must be a date like 2026-03-31, got {raw!r}.") from None


def parse_decimal(raw: str | None, label: str) -> Decimal | None:
    raw = (raw or "").strip().replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ApplicationError(f"{label} must be a number, got {raw!r}.") from None
    if not value.is_finite() or value < 0:
        raise ApplicationError(f"{label} must be a positive number.")
    return value


def confirmed(post: QueryDict) -> list[str]:
    return [c for c in post.getlist("confirmed") if c.strip()]
