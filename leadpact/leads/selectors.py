"""Reads of leads: the common lead view (list and lead page) and the API build on these.

The list must stay fast at a million leads, so it never uses OFFSET and never counts every row:

- paging is keyset paging over ``(sort value, id)`` with an opaque cursor, so page 500 costs
  what page 1 costs;
- the count stops at ``COUNT_CAP`` ("10,000+"), which bounds its cost;
- search is a *prefix* search on the normalised name, e-mail and company keys, written so that
  each database answers it from an index (see ``_prefix``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import F, Func, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from leadpact.campaigns.channels import channel_slug
from leadpact.campaigns.models import Campaign, Touch
from leadpact.common.errors import ApplicationError
from leadpact.common.numbers import is_whole_number
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.normalize import fold

SORTS = ("-captured_at", "captured_at", "-score", "score", "last_name", "-last_name")
SORT_LABELS = {
    "-captured_at": "Newest first",
    "captured_at": "Oldest first",
    "-score": "Highest score",
    "score": "Lowest score",
    "last_name": "Last name A to Z",
    "-last_name": "Last name Z to A",
}
COUNT_CAP = 10_000
PAGE_SIZE_MAX = 200
Q_MAX = 100
FILTER_PARAMS = ("q", "state", "owner", "channel", "campaign", "captured_from", "captured_to")
OWNER_NONE = ("none", "unassigned")
OWNER_MINE = "mine"
_PREFIX_END = "\uffff"
_NON_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    state: str = ""
    owner_id: int | None = None
    unowned: bool = False
    channel: str = ""
    campaign_id: int | None = None
    captured_from: date | None = None
    captured_to: date | None = None
    sort: str = "-captured_at"


@dataclass
class LeadPage:
    items: list[Lead]
    next_cursor: str | None
    previous_cursor: str | None
    total: int
    total_is_estimate: bool  # True when ``total`` is the cap: show "10,000+"


# --- filters -------------------------------------------------------------------------------


def lead_filters_from_params(params: Mapping[str, str], *, user: Any = None) -> LeadFilters:
    """Read the list filters from query parameters (page or API).

    Parameters: ``q``, ``state``, ``owner`` (a user id, ``mine`` — needs ``user`` — or
    ``unassigned``/``none``), ``channel``, ``campaign`` (id), ``captured_from`` and
    ``captured_to`` (YYYY-MM-DD, inclusive), ``sort`` (one of ``SORTS``). Empty values mean
    "no filter"; other parameters are ignored. Raises ``ApplicationError`` naming every bad
    value (``extra={"fields": {param: message}}``).
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def text(name: str) -> str:
        raw = params.get(name, "")
        return (raw if isinstance(raw, str) else str(raw)).strip()

    q = text("q")
    if len(q) > Q_MAX:
        errors["q"] = f"Search for at most {Q_MAX} characters."
    values["q"] = q[:Q_MAX]

    state = text("state")
    if state and state not in LeadState.values:
        errors["state"] = (
            f"“{state}” is not a lead state; choose one of {', '.join(LeadState.values)}."
        )
    else:
        values["state"] = state

    owner = text("owner")
    if owner.lower() in OWNER_NONE:
        values["unowned"] = True
    elif owner.lower() == OWNER_MINE:
        if user is None or not getattr(user, "pk", None):
            errors["owner"] = "“mine” needs a signed-in user."
        else:
            values["owner_id"] = user.pk
    elif owner:
        owner_id = _positive_int(owner)
        if owner_id is None:
            errors["owner"] = f"“{owner}” is not an owner: give a user id, mine or unassigned."
        else:
            values["owner_id"] = owner_id

    channel = text("channel")
    if channel and channel_slug(channel) != channel:
        errors["channel"] = f"“{channel}” is not a channel (lower-case words joined by _)."
    else:
        values["channel"] = channel

    campaign = text("campaign")
    if campaign:
        campaign_id = _positive_int(campaign)
        if campaign_id is None:
            errors["campaign"] = f"“{campaign}” is not a campaign id."
        else:
            values["campaign_id"] = campaign_id

    for name in ("captured_from", "captured_to"):
        raw = text(name)
        if not raw:
            continue
        try:
            parsed = parse_date(raw)
        except ValueError:
            parsed = None
        if parsed is None:
            errors[name] = f"“{raw}” is not a date; write it as YYYY-MM-DD."
        else:
            values[name] = parsed
    if (
        values.get("captured_from")
        and values.get("captured_to")
        and values["captured_from"] > values["captured_to"]
    ):
        errors["captured_to"] = "The end date is before the start date."

    sort = text("sort") or LeadFilters.sort
    if sort not in SORTS:
        errors["sort"] = f"“{sort}” is not a sort order; choose one of {', '.join(SORTS)}."
    else:
        values["sort"] = sort

    if errors:
        raise ApplicationError(
            " ".join(errors.values()), code="invalid_filter", extra={"fields": errors}
        )
    return LeadFilters(**values)


def lead_filters_to_params(filters: LeadFilters) -> dict[str, str]:
    """The query parameters that ``lead_filters_from_params`` reads back: shareable URLs."""
    params: dict[str, str] = {}
    if filters.q:
        params["q"] = filters.q
    if filters.state:
        params["state"] = filters.state
    if filters.unowned:
        params["owner"] = "unassigned"
    elif filters.owner_id is not None:
        params["owner"] = str(filters.owner_id)
    if filters.channel:
        params["channel"] = filters.channel
    if filters.campaign_id is not None:
        params["campaign"] = str(filters.campaign_id)
    if filters.captured_from:
        params["captured_from"] = filters.captured_from.isoformat()
    if filters.captured_to:
        params["captured_to"] = filters.captured_to.isoformat()
    if filters.sort != LeadFilters.sort:
        params["sort"] = filters.sort
    return params


def _positive_int(raw: str) -> int | None:
    if not is_whole_number(raw):
        return None
    value = int(raw)
    return value if value > 0 else None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def search_terms(q: str) -> list[tuple[str, str]]:
    """``(column, prefix)`` pairs of a search: the person's name ("first last"), e-mail and
    company, each normalised the way ``leadpact.leads.normalize`` stores them."""
    name = fold(q)
    company = _SPACES.sub(" ", _NON_WORD.sub(" ", name)).strip()
    terms = [("search_key", name), ("email_key", q.strip().lower()), ("company_key", company)]
    return [(column, value) for column, value in terms if value]


def _prefix(column: str, value: str) -> Q:
    """``column`` starts with ``value``, in the form each database answers from an index.

    PostgreSQL: ``LIKE 'value%'`` (escaped), served by the ``varchar_pattern_ops`` index Django
    adds to indexed text columns, whatever the database collation. SQLite only turns ``LIKE``
    into an index range under conditions Django does not meet (case-sensitive LIKE pragma), so
    there the prefix is the explicit range ``>= value AND < value || U+FFFF``.
    """
    if connection.vendor == "postgresql":
        return Q(**{f"{column}__startswith": value})
    return Q(**{f"{column}__gte": value, f"{column}__lt": value + _PREFIX_END})


def _unindexed(qs: QuerySet[Lead], column: str) -> tuple[QuerySet[Lead], str]:
    """Alias ``+column`` (SQLite's unary plus): the same value, but no index is chosen for it."""
    alias = f"_plain_{column}"
    field = Lead._meta.get_field(column)
    expression = Func(F(column), template="+%(expressions)s", output_field=field)
    return qs.alias(**{alias: expression}), alias


def search_condition(q: str) -> Q:
    condition = Q()
    for column, value in search_terms(q):
        condition |= _prefix(column, value)
    return condition


def lead_queryset(filters: LeadFilters, *, walk_sort_index: bool = False) -> QuerySet[Lead]:
    """The leads matching ``filters`` (merged-away leads excluded), not yet ordered.

    ``walk_sort_index`` (SQLite, broad searches): keep the search columns away from index
    selection so the database walks the sort index and stops after a page of matches.
    """
    qs = Lead.objects.filter(merged_into__isnull=True)
    if filters.q:
        condition = Q()
        for column, value in search_terms(filters.q):
            if walk_sort_index and connection.vendor == "sqlite":
                qs, column = _unindexed(qs, column)
            condition |= _prefix(column, value)
        qs = qs.filter(condition)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.unowned:
        qs = qs.filter(owner__isnull=True)
    elif filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.channel:
        qs = qs.filter(source_channel=filters.channel)
    if filters.campaign_id is not None:
        qs = qs.filter(source_campaign_id=filters.campaign_id)
    if filters.captured_from:
        qs = qs.filter(captured_at__gte=_day_start(filters.captured_from))
    if filters.captured_to:
        qs = qs.filter(captured_at__lt=_day_start(filters.captured_to + timedelta(days=1)))
    return qs


def _search_is_broad(q: str) -> bool:
    """SQLite only: does one search column alone match more than ``COUNT_CAP`` leads?

    SQLite has no statistics on value distribution, so it cannot tell "grace ho" (a few
    hundred leads: read them from the search indexes and sort) from "a" (a tenth of the table:
    walk the sort index and stop after a page). One query counts each column's matches from its
    own index, each count stopping at the cap: a few milliseconds.
    """
    parts, params = [], []
    for column, value in search_terms(q):
        sub = Lead.objects.filter(_prefix(column, value)).order_by().values("id")[: COUNT_CAP + 1]
        sql, sub_params = sub.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}))")
        params.extend(sub_params)
    if not parts:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MAX(" + ", ".join(parts) + ")" if len(parts) > 1 else "SELECT " + parts[0],
            params,
        )
        (widest,) = cursor.fetchone()
    return widest > COUNT_CAP


# --- keyset paging ---------------------------------------------------------------------------


def _sort_field(sort: str) -> tuple[str, bool]:
    return sort.lstrip("-"), sort.startswith("-")


def _encode_cursor(sort: str, lead: Lead, direction: str) -> str:
    name, _ = _sort_field(sort)
    value = getattr(lead, name)
    if isinstance(value, datetime):
        value = value.isoformat()
    payload = json.dumps(
        {"s": sort, "v": value, "i": lead.pk, "d": direction}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int, str]:
    bad = ApplicationError(
        "This page link is no longer valid; start again from the first page.",
        code="invalid_cursor",
        extra={"fields": {"cursor": "Not a page cursor."}},
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise bad from None
    if not isinstance(payload, dict):
        raise bad
    if payload.get("s") != sort:
        raise ApplicationError(
            "This page link belongs to another sort order; start again from the first page.",
            code="invalid_cursor",
            extra={"fields": {"cursor": "Cursor of another sort order."}},
        )
    pk, direction, value = payload.get("i"), payload.get("d"), payload.get("v")
    if not isinstance(pk, int) or isinstance(pk, bool) or direction not in ("n", "p"):
        raise bad
    name, _ = _sort_field(sort)
    if name == "captured_at":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise bad
        value = parsed
    elif name == "score":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad
    elif not isinstance(value, str):
        raise bad
    return value, pk, direction


def _after(name: str, descending: bool, value: Any, pk: int) -> Q:
    """Rows strictly after ``(value, pk)`` in the order; the first, redundant term gives the
    database an index range to start from."""
    if descending:
        return Q(**{f"{name}__lte": value}) & (
            Q(**{f"{name}__lt": value}) | Q(**{name: value, "pk__lt": pk})
        )
    return Q(**{f"{name}__gte": value}) & (
        Q(**{f"{name}__gt": value}) | Q(**{name: value, "pk__gt": pk})
    )


def lead_page(*, filters: LeadFilters, cursor: str | None = None, size: int = 50) -> LeadPage:
    """One page of the list in two queries: the rows, and a count capped at ``COUNT_CAP``.

    A search on SQLite takes one more, cheap query that picks the plan (``_search_is_broad``);
    when that query already shows the search alone matches more than the cap, it replaces the
    count.
    """
    size = max(1, min(int(size), PAGE_SIZE_MAX))
    name, descending = _sort_field(filters.sort)
    decoded = _decode_cursor(cursor, filters.sort) if cursor else None
    walk = bool(filters.q) and connection.vendor == "sqlite" and _search_is_broad(filters.q)
    base = lead_queryset(filters, walk_sort_index=walk)
    qs = base.select_related("owner", "source_campaign")
    direction = "n"
    if decoded:
        value, pk, direction = decoded
        key = name
        if filters.q and not walk and connection.vendor == "sqlite":
            # A narrow search reads its few rows from the search indexes and sorts them; a
            # bare range on the sort column would tempt SQLite to walk the whole sort index
            # instead (1 s at 1M leads).
            qs, key = _unindexed(qs, name)
        # Going back, walk the order in reverse from the cursor and flip the rows afterwards.
        qs = qs.filter(_after(key, descending if direction == "n" else not descending, value, pk))
    walk_descending = descending if direction == "n" else not descending
    prefix = "-" if walk_descending else ""
    rows = list(qs.order_by(f"{prefix}{name}", f"{prefix}id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if direction == "p":
        rows.reverse()
        next_cursor = _encode_cursor(filters.sort, rows[-1], "n") if rows else None
        previous_cursor = _encode_cursor(filters.sort, rows[0], "p") if rows and more else None
    else:
        next_cursor = _encode_cursor(filters.sort, rows[-1], "n") if rows and more else None
        previous_cursor = _encode_cursor(filters.sort, rows[0], "p") if rows and cursor else None
    if walk and filters == LeadFilters(q=filters.q, sort=filters.sort):
        total = COUNT_CAP + 1  # the search alone: the probe already found more than the cap
    else:
        # No ORDER BY in the count (the model's default ordering would sort the capped rows).
        total = base.order_by().values("id")[: COUNT_CAP + 1].count()
    return LeadPage(
        items=rows,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        total=min(total, COUNT_CAP),
        total_is_estimate=total > COUNT_CAP,
    )


# --- one lead ------------------------------------------------------------------------------


def lead_get(*, lead_id: int) -> Lead:
    """One lead with what its page shows alongside; raises ``Lead.DoesNotExist``."""
    return Lead.objects.select_related(
        "owner", "owner__team", "source_campaign", "company", "merged_into"
    ).get(pk=lead_id)


def lead_timeline(*, lead: Lead, limit: int = 200) -> list[TimelineEvent]:
    """The lead's timeline, newest first, with actors and touches (and their campaigns)."""
    return list(
        TimelineEvent.objects.filter(lead_id=lead.pk)
        .select_related("actor", "touch", "touch__campaign")
        .order_by("-occurred_at", "-id")[:limit]
    )


def lead_touches(*, lead: Lead, limit: int = 100) -> list[Touch]:
    """The lead's marketing touches, newest first."""
    return list(
        Touch.objects.filter(lead_id=lead.pk)
        .select_related("campaign")
        .order_by("-occurred_at", "-id")[:limit]
    )


def lead_merged_from(*, lead: Lead, limit: int = 50) -> list[Lead]:
    """Leads that were merged into ``lead``."""
    return list(Lead.objects.filter(merged_into_id=lead.pk).order_by("-id")[:limit])


def campaign_choices(*, limit: int = 500) -> list[tuple[int, str]]:
    """Campaigns for the list's filter menu, by name."""
    return list(Campaign.objects.order_by("name").values_list("id", "name")[:limit])


EXPORT_BATCH = 2000
# The columns of an export, in order; "owner" and "source_campaign" are the username and the
# campaign code.
EXPORT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company_name",
    "title",
    "country",
    "city",
    "state",
    "owner",
    "score",
    "source_channel",
    "source_campaign",
    "captured_at",
    "external_source",
    "external_id",
)
_EXPORT_RELATED = {"owner": F("owner__username"), "source_campaign": F("source_campaign__code")}


def lead_export_rows(*, filters: LeadFilters, batch: int = EXPORT_BATCH) -> Iterator[list[Any]]:
    """Every lead matching ``filters`` as a row of ``EXPORT_COLUMNS`` values, in id order,
    fetched in keyset batches so memory stays flat however many leads there are."""
    plain = [name for name in EXPORT_COLUMNS if name not in _EXPORT_RELATED]
    related = {f"{name}_value": expr for name, expr in _EXPORT_RELATED.items()}
    keys = [f"{name}_value" if name in _EXPORT_RELATED else name for name in EXPORT_COLUMNS]
    qs = lead_queryset(filters).order_by("pk").values(*plain, **related)
    last = 0
    while True:
        rows = list(qs.filter(pk__gt=last)[:batch])
        if not rows:
            return
        for row in rows:
            yield [row[key] for key in keys]
        last = rows[-1]["id"]
