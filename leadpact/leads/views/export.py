"""CSV export of the lead list, with the list's filters, streamed so a million rows fit."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from leadpact.accounts.models import Role
from leadpact.accounts.roles import has_role
from leadpact.common.errors import ApplicationError
from leadpact.common.spreadsheet import neutralise
from leadpact.leads.selectors import EXPORT_COLUMNS, lead_export_rows, lead_filters_from_params


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming ``csv.writer``."""

    def write(self, value: str) -> str:
        return value


def can_export(user: Any) -> bool:
    """Bulk export is for the people who run the funnel, not every rep."""
    return has_role(user, Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER)


def _lines(rows: Iterator[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        yield writer.writerow([neutralise(_cell(value)) for value in row])


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@login_required
def lead_export(request: HttpRequest) -> HttpResponse:
    if not can_export(request.user):
        raise PermissionDenied("Exports are for admins, marketing and sales managers.")
    try:
        filters = lead_filters_from_params(request.GET, user=request.user)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        _lines(lead_export_rows(filters=filters)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response
