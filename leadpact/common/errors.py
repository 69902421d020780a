"""The one error type that services raise for a broken precondition or bad input."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied


class ApplicationError(Exception):
    """A request that cannot be carried out, with a message meant for the person who asked.

    ``code`` is a short machine-readable slug; ``status`` is the HTTP status the API answers
    with; ``extra`` carries structured details (for example per-field or per-row errors).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status: int = 400,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.extra = extra or {}


class PermissionDeniedError(PermissionDenied):
    """The actor may not do this. A Django ``PermissionDenied``, so that a page that catches
    ``ApplicationError`` to show a message still answers 403 for a refusal, and the API answers
    403 JSON with this message."""

    def __init__(
        self,
        message: str = "You may not do this.",
        *,
        code: str = "forbidden",
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = 403
        self.extra = extra or {}


class ConflictError(ApplicationError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "conflict")
        kwargs.setdefault("status", 409)
        super().__init__(message, **kwargs)
