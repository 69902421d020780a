"""Shared pieces of the REST layer: the error format and strict input serializers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from leadpact.common.errors import ApplicationError, PermissionDeniedError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error answers with ``{"error": {"code", "message", "details"}}``."""
    if isinstance(exc, ApplicationError | PermissionDeniedError):
        return Response(
            {"error": {"code": exc.code, "message": exc.message, "details": exc.extra}},
            status=exc.status,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": "The request is not valid.", "details": response.data}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(
            exc, "default_code", "error"
        )
        body = {"code": str(code), "message": str(detail), "details": {}}
    response.data = {"error": body}
    return response


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know instead of silently ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
