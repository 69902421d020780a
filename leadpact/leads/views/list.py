"""The lead list: one page that marketing and sales share, fast at a million leads.

The filters live in the query string, so a filtered list is a link anyone can share; HTMX swaps
only the results table while the URL follows along (``HX-Push-Url``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from leadpact.accounts.selectors import sales_people
from leadpact.campaigns.channels import KNOWN_CHANNELS
from leadpact.common.errors import ApplicationError
from leadpact.common.numbers import is_whole_number
from leadpact.leads.models import LeadState
from leadpact.leads.selectors import (
    FILTER_PARAMS,
    SORT_LABELS,
    campaign_choices,
    lead_filters_from_params,
    lead_page,
)
from leadpact.leads.views.export import can_export

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
# Column headers that sort: (column, ascending sort, descending sort, first click).
SORTABLE = {
    "name": ("last_name", "-last_name", "last_name"),
    "score": ("score", "-score", "-score"),
    "captured": ("captured_at", "-captured_at", "-captured_at"),
}


def _clean_params(params: QueryDict, **overrides: str) -> dict[str, str]:
    """The non-empty list parameters (filters, sort, size, cursor) with ``overrides`` applied."""
    keys = (*FILTER_PARAMS, "sort", "size", "cursor")
    values = {key: params.get(key, "").strip() for key in keys}
    values.update(overrides)
    return {key: value for key, value in values.items() if value}


def _url(params: dict[str, str]) -> str:
    base = reverse("leads:list")
    return f"{base}?{urlencode(params)}" if params else base


def _page_size(raw: str) -> tuple[int, str]:
    if not raw:
        return DEFAULT_PAGE_SIZE, ""
    if is_whole_number(raw) and int(raw) in PAGE_SIZES:
        return int(raw), ""
    sizes = ", ".join(str(s) for s in PAGE_SIZES)
    return DEFAULT_PAGE_SIZE, f"“{raw}” is not a page size; showing {DEFAULT_PAGE_SIZE} ({sizes})."


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    problems: list[str] = []
    field_errors: dict[str, str] = {}
    size, size_problem = _page_size(params.get("size", "").strip())
    if size_problem:
        problems.append(size_problem)
        field_errors["size"] = size_problem
    page = None
    filters = None
    try:
        filters = lead_filters_from_params(params, user=request.user)
    except ApplicationError as exc:
        # Showing every lead under a filter the user did not get would mislead: show nothing
        # and say which value to fix.
        fields: dict[str, str] = exc.extra.get("fields") or {}
        field_errors.update(fields)
        problems.extend(fields.values() if fields else [exc.message])
    if filters is not None:
        try:
            page = lead_page(filters=filters, cursor=params.get("cursor") or None, size=size)
        except ApplicationError as exc:
            problems.append(exc.message)
            page = lead_page(filters=filters, size=size)

    current = _clean_params(params)
    without_cursor = {k: v for k, v in current.items() if k != "cursor"}
    sort = filters.sort if filters else "-captured_at"
    context: dict[str, Any] = {
        "page": page,
        "problems": problems,
        "field_errors": field_errors,
        "form": {key: params.get(key, "").strip() for key in (*FILTER_PARAMS, "sort", "size")},
        "has_filters": any(k in without_cursor for k in FILTER_PARAMS),
        "sort": sort,
        "sort_links": {
            column: _sort_link(without_cursor, sort, asc, desc, first)
            for column, (asc, desc, first) in SORTABLE.items()
        },
        "next_url": _url({**without_cursor, "cursor": page.next_cursor})
        if page and page.next_cursor
        else "",
        "previous_url": _url({**without_cursor, "cursor": page.previous_cursor})
        if page and page.previous_cursor
        else "",
        "first_url": _url(without_cursor) if "cursor" in current else "",
        "sorts": list(SORT_LABELS.items()),
        "export_url": reverse("leads:export")
        + (f"?{urlencode(without_cursor)}" if without_cursor else "")
        if can_export(request.user)
        else "",
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "leads/_results.html", {**context, "partial": True})
        push_url(response, _url(current))
    else:
        context.update(
            states=LeadState.choices,
            owners=list(sales_people().values_list("id", "first_name", "last_name", "username")),
            channels=sorted(KNOWN_CHANNELS.items(), key=lambda item: item[1]),
            campaigns=campaign_choices(),
            page_sizes=PAGE_SIZES,
            clear_url=reverse("leads:list"),
        )
        response = render(request, "leads/list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _sort_link(
    params: dict[str, str], current: str, asc: str, desc: str, first: str
) -> dict[str, str]:
    """Clicking a header sorts by it; clicking again flips the direction."""
    if current == asc:
        target, arrow = desc, "▲"
    elif current == desc:
        target, arrow = asc, "▼"
    else:
        target, arrow = first, ""
    return {"url": _url({**params, "sort": target}), "arrow": arrow}
