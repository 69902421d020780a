"""Reads of the pipeline review: pipeline by stage and forecast category, movement since last
week, stuck and overdue deals, and stage conversion and days in stage from the deals' timelines.

Every figure comes from a number of queries that does not grow with the deals: one aggregate
over the open deals (grouped by owner, stage, category and currency), one read of the deals'
timelines over the movement window and one over the history window, and bounded lists (one
LIMIT query per open stage for the stale and the overdue deals, one for the deals that moved).
The timeline is read from the stage columns of its entries (``DealEvent.stage`` entered,
``from_stage`` left) through the ``dealevent_entry`` covering index, not from their JSON. The
arithmetic on the timeline (movement, conversion, days in stage) is vectorised with pandas and
numpy. Conversion and days in stage (the costliest read: every stage entry of the history
window) are cached per exact question and refreshed ahead of expiry by a periodic job for every
review opened in the last day; everything else is read live.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db import connections
from django.db.models import (
    Count,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.accounts.roles import has_role
from leadpact.common.errors import ApplicationError
from leadpact.pipeline.models import Deal, DealEvent, ForecastCategory, Pipeline, Stage
from leadpact.pipeline.policies import visible_deals
from leadpact.pipeline.quota_selectors import visible_sales_people

LIST_LIMIT = 50  # stale and overdue deals listed; the section header carries the full count
MOVEMENT_LIST = 10  # the largest deals listed per movement kind
# An open deal is never "closed" (winning or losing sets it), so the matrix leaves it out.
OPEN_CATEGORIES = [c for c in ForecastCategory.values if c != ForecastCategory.CLOSED]
MOVEMENT_KINDS = ("new", "advanced", "slipped", "won", "lost")
MOVEMENT_LABELS = {
    "new": "New",
    "advanced": "Advanced",
    "slipped": "Slipped (close date pushed out or moved back)",
    "won": "Won",
    "lost": "Lost",
}


@dataclass(frozen=True)
class ReviewFilters:
    """What the review is about. ``from_leads`` keeps the deals that came from a lead (the
    marketing view); ``team_id``/``rep_id`` narrow to a team or one owner."""

    pipeline: Pipeline
    today: date
    team_id: int | None = None
    rep_id: int | None = None
    from_leads: bool = False
    stale_days: int = 14
    movement_days: int = 7
    history_days: int = 90


@dataclass
class ReviewChoices:
    teams: list[Team]
    reps: list[User]


@dataclass
class MatrixRow:
    stage: Stage
    cells: list[dict[str, Any]]  # per category: {"count", "amount"}
    count: int
    amount: Decimal


@dataclass
class RepRow:
    owner: User | None
    owner_id: int
    count: int
    amount: Decimal
    commit: Decimal
    best_case: Decimal
    stale: int
    overdue: int


@dataclass
class TeamRow:
    team: Team | None
    count: int
    amount: Decimal
    commit: Decimal
    best_case: Decimal
    stale: int
    overdue: int


def team_rows(*, reps: list[RepRow], teams: list[Team]) -> list[TeamRow]:
    """The per-rep rows summed per sales team (no query: the owners carry their team)."""
    names = {t.pk: t for t in teams}
    rows: dict[int | None, TeamRow] = {}
    zero = Decimal("0")
    for r in reps:
        key = r.owner.team_id if r.owner is not None else None
        row = rows.setdefault(
            key, TeamRow(names.get(key) if key else None, 0, zero, zero, zero, 0, 0)
        )
        row.count += r.count
        row.amount += r.amount
        row.commit += r.commit
        row.best_case += r.best_case
        row.stale += r.stale
        row.overdue += r.overdue
    return sorted(rows.values(), key=lambda t: t.amount, reverse=True)


@dataclass
class MovementSection:
    kind: str
    label: str
    count: int
    amount: Decimal
    deals: list[Deal]


@dataclass
class StageFlow:
    stage: Stage
    entered: int
    left: int
    advanced: int
    conversion: float | None  # advanced / left
    avg_days: float | None  # mean days of the completed spells
    median_days: float | None


@dataclass
class Review:
    filters: ReviewFilters
    currency: str
    other_currencies: list[str]
    categories: list[tuple[str, str]]
    matrix: list[MatrixRow]
    totals: dict[str, Any]
    reps: list[RepRow]
    movement: list[MovementSection]
    flows: list[StageFlow]
    stale: list[Deal]
    stale_count: int
    overdue: list[Deal]
    overdue_count: int
    chart: dict[str, Any] = field(default_factory=dict)


def review_choices(*, user: Any) -> ReviewChoices:
    """The teams and owners ``user`` may narrow the review to (two queries): the salespeople
    and sales teams whose numbers they may see, as on the quotas and forecast pages."""
    people, teams = visible_sales_people(user)
    return ReviewChoices(
        teams=list(teams.order_by("name")),
        reps=list(people.order_by("first_name", "last_name", "username")),
    )


def review_filters_make(
    *,
    user: Any,
    pipelines: list[Pipeline],
    today: date,
    pipeline: str = "",
    team_id: int | None = None,
    rep_id: int | None = None,
    leads_only: bool = False,
    stale_days: int | None = None,
    movement_days: int | None = None,
    history_days: int | None = None,
) -> ReviewFilters:
    """The review asked for (by the page or the API): ``pipeline`` is the id chosen (the first
    pipeline when empty; an unknown one is refused); marketing always reviews the deals that
    came from its leads, others when they ask (``leads_only``); a day count not given is
    ``ReviewFilters``' default."""
    chosen = next((p for p in pipelines if str(p.pk) == str(pipeline)), None)
    if pipeline and chosen is None:
        raise ApplicationError("No such pipeline; choose one from the list.")
    if chosen is None and not pipelines:
        raise ApplicationError("No pipeline is set up yet.", code="no_pipeline", status=404)
    days = {
        "stale_days": stale_days,
        "movement_days": movement_days,
        "history_days": history_days,
    }
    return ReviewFilters(
        pipeline=chosen or pipelines[0],
        today=today,
        team_id=team_id,
        rep_id=rep_id,
        from_leads=has_role(user, Role.MARKETING) or leads_only,
        **{name: value for name, value in days.items() if value is not None},
    )


def review_filters_check(*, choices: ReviewChoices, filters: ReviewFilters) -> None:
    """A team or rep the user may not review is refused with a clear message (403 from the
    API; the page shows it and answers 400), a day count out of range too (400)."""
    if filters.team_id is not None and filters.team_id not in {t.pk for t in choices.teams}:
        raise ApplicationError(
            "You can't review that team; choose one from the list.", code="forbidden", status=403
        )
    if filters.rep_id is not None and filters.rep_id not in {u.pk for u in choices.reps}:
        raise ApplicationError(
            "You can't review that person's deals; choose one from the list.",
            code="forbidden",
            status=403,
        )
    for name, value, top in (
        ("No-activity days", filters.stale_days, 365),
        ("Movement days", filters.movement_days, 92),
        ("History days", filters.history_days, 730),
    ):
        if not 1 <= value <= top:
            raise ApplicationError(f"{name} must be between 1 and {top}.")


def review_scope(*, user: Any, filters: ReviewFilters) -> QuerySet[Deal]:
    """Every deal (open or closed) the review covers: visible to ``user``, in the pipeline,
    narrowed to the team, rep and lead-sourced deals as asked."""
    qs = visible_deals(user).filter(pipeline=filters.pipeline)
    if filters.team_id is not None:
        qs = qs.filter(owner__team_id=filters.team_id)
    if filters.rep_id is not None:
        qs = qs.filter(owner_id=filters.rep_id)
    if filters.from_leads:
        qs = qs.filter(lead__isnull=False)
    return qs


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _stale_q(filters: ReviewFilters) -> Q:
    cutoff = _start_of(filters.today - timedelta(days=filters.stale_days))
    return Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)


def _overdue_q(filters: ReviewFilters) -> Q:
    return Q(close_date__lt=filters.today)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else Decimal("0")


def _open_aggregate(open_deals: QuerySet[Deal], filters: ReviewFilters) -> pd.DataFrame:
    """One query: open deals grouped by owner, stage, category and currency."""
    rows = list(
        open_deals.values("owner_id", "stage_id", "forecast_category", "currency")
        .annotate(
            n=Count("id"),
            amount=Sum("amount"),
            stale=Count("id", filter=_stale_q(filters)),
            overdue=Count("id", filter=_overdue_q(filters)),
        )
        .order_by()
    )
    columns = ["owner_id", "stage_id", "forecast_category", "currency", "n", "amount"]
    frame = pd.DataFrame(rows, columns=[*columns, "stale", "overdue"])
    frame["amount"] = frame["amount"].map(_dec) if len(frame) else frame["amount"]
    return frame


def _matrix(
    frame: pd.DataFrame, stages: list[Stage], currency: str
) -> tuple[list[MatrixRow], dict[str, Any], dict[str, Any]]:
    """Counts (every currency) and amounts (``currency`` only) per stage and category: a plain
    loop, the aggregate has a few hundred rows at most."""
    categories = OPEN_CATEGORIES
    zero = Decimal("0")
    counts: dict[tuple[int, str], int] = {}
    amounts: dict[tuple[int, str], Decimal] = {}
    for row in frame.itertuples(index=False):
        key = (int(row.stage_id), str(row.forecast_category))
        counts[key] = counts.get(key, 0) + int(row.n)
        if row.currency == currency:
            amounts[key] = amounts.get(key, zero) + row.amount
    rows = []
    col_count = dict.fromkeys(categories, 0)
    col_amount = dict.fromkeys(categories, zero)
    for stage in stages:
        cells = []
        for c in categories:
            n = counts.get((stage.pk, c), 0)
            found = amounts.get((stage.pk, c))
            amount = zero if found is None else _dec(found)
            cells.append({"category": c, "count": n, "amount": amount})
            col_count[c] += n
            col_amount[c] += amount
        rows.append(
            MatrixRow(
                stage=stage,
                cells=cells,
                count=sum(x["count"] for x in cells),
                amount=sum((x["amount"] for x in cells), zero),
            )
        )
    totals = {
        "cells": [{"count": col_count[c], "amount": col_amount[c]} for c in categories],
        "count": sum(col_count.values()),
        "amount": sum(col_amount.values(), zero),
    }
    chart = {
        "labels": [s.name for s in stages],
        "datasets": [
            {
                "label": label,
                "data": [float(amounts.get((s.pk, value), 0)) for s in stages],
            }
            for value, label in ForecastCategory.choices
            if value != ForecastCategory.CLOSED
        ],
        "currency": currency,
    }
    return rows, totals, chart


def _reps(frame: pd.DataFrame, currency: str, owners: dict[int, User]) -> list[RepRow]:
    """One row per owner (amounts in ``currency``), largest pipeline first."""
    zero = Decimal("0")
    by_owner: dict[int, RepRow] = {}
    for row in frame.itertuples(index=False):
        owner_id = int(row.owner_id)
        rep = by_owner.get(owner_id)
        if rep is None:
            rep = by_owner[owner_id] = RepRow(
                owners.get(owner_id), owner_id, 0, zero, zero, zero, 0, 0
            )
        rep.count += int(row.n)
        rep.stale += int(row.stale)
        rep.overdue += int(row.overdue)
        if row.currency == currency:
            rep.amount += row.amount
            if row.forecast_category == ForecastCategory.COMMIT:
                rep.commit += row.amount
            elif row.forecast_category == ForecastCategory.BEST_CASE:
                rep.best_case += row.amount
    ordered = sorted(by_owner.values(), key=lambda r: r.owner_id)
    return sorted(ordered, key=lambda r: (r.amount, r.count), reverse=True)


class Epoch(Func):
    """Seconds since 1970 of a timestamp, computed by the database: a float column loads far
    faster than timezone-aware datetimes (the history window holds many thousand rows)."""

    output_field = FloatField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sqlite(compiler, connection, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            # date_part gives a float directly; EXTRACT gives a numeric (PostgreSQL 14+),
            # and casting a hundred thousand of those costs more than the join.
            compiler,
            connection,
            template="date_part('epoch', %(expressions)s)",
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        )


def _raw_rows(qs: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` query as the driver returns them: the columns here are
    plain numbers and strings, and Django's per-value converters cost more than the query on a
    large history window. On PostgreSQL the rows come in binary (no number printed by the
    server and parsed back here: a fifth of the read of a large window); the query still goes
    through Django's cursor wrapper, so it is logged and counted like any other."""
    connection = connections[qs.db]
    sql, params = qs.query.sql_with_params()
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        raw = psycopg.Cursor(connection.connection)
        raw.format = psycopg.pq.Format.BINARY
        wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
        cursor = wrap(raw)
    else:
        cursor = connection.cursor()
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _timeline(scope: QuerySet[Deal], *more: Q) -> QuerySet[Deal]:
    """The deals of ``scope`` joined to their timeline entries (one join, filtered by
    ``more``): reading from the deals keeps the visibility and filters of ``scope`` on the
    deal side of a single hash join."""
    return scope.filter(*more).order_by()


def _spells(scope: QuerySet[Deal], since: datetime) -> np.ndarray:
    """One query: every stage entry (a deal created in, or moved to, a stage) since ``since``,
    as a float array of rows (deal, seconds since 1970, stage entered). The entries are read
    through the ``dealevent_entry`` index (time, deal, stage entered), not from their JSON, and
    without Django's per-value converters (see ``_raw_rows``); pairing each entry with the next
    is numpy's job. (Pairing them in the database with a window function was slower: it sorts
    every entry.)"""
    qs = _timeline(
        scope, Q(events__stage__isnull=False, events__occurred_at__gte=since)
    ).values_list("pk", Epoch("events__occurred_at"), "events__stage_id")
    rows = _raw_rows(qs)
    flat = np.fromiter(chain.from_iterable(rows), dtype="float64", count=3 * len(rows))
    return flat.reshape(len(rows), 3)


FLOW_CACHE_SECONDS = 600
FLOW_RECENT_KEY = "pipeline:review:recent"
FLOW_RECENT_DAYS = 1  # a review not opened for a day is no longer kept warm


def _flows_key(scope: QuerySet[Deal], since: datetime, stages: list[Stage]) -> str:
    sql, params = scope.values("pk").query.sql_with_params()
    shape = [(s.pk, s.position, s.kind) for s in stages]
    raw = f"{sql}|{params!r}|{since.isoformat()}|{shape!r}"
    return "pipeline:review:flows:" + hashlib.sha256(raw.encode()).hexdigest()


def _flows_compute(
    scope: QuerySet[Deal], since: datetime, stages: list[Stage], key: str
) -> list[tuple[Any, ...]]:
    flows = _flows(_spells(scope, since), stages)
    found = [
        (f.stage.pk, f.entered, f.left, f.advanced, f.conversion, f.avg_days, f.median_days)
        for f in flows
    ]
    cache.set(key, found, FLOW_CACHE_SECONDS)
    return found


def _flows_cached(scope: QuerySet[Deal], since: datetime, stages: list[Stage]) -> list[StageFlow]:
    """``_flows`` of ``_spells``, kept for ``FLOW_CACHE_SECONDS``: conversion and days in stage
    describe the last months, and reading every stage entry of a large pipeline is the page's
    costliest query, so a review reopened within minutes reuses the figures (the page says
    so), and ``review_flows_refresh`` recomputes the figures of every review opened in the last
    day before they expire (refresh-ahead), so a regular reader never waits for that read. The
    key is the exact query (scope, filters, window) and the stages' order and kinds."""
    key = _flows_key(scope, since, stages)
    found = cache.get(key)
    if found is None:
        found = _flows_compute(scope, since, stages, key)
    by_pk = {s.pk: s for s in stages}
    return [StageFlow(by_pk[row[0]], *row[1:]) for row in found if row[0] in by_pk]


def _flows_remember(*, user: Any, filters: ReviewFilters) -> None:
    """Note that ``user`` opened this review, for ``review_flows_refresh``. A read-modify-write
    of one cache entry: two reviews opened at the same instant may drop one note, which only
    means that review is read afresh once more."""
    recent = cache.get(FLOW_RECENT_KEY) or {}
    spec = (
        user.pk,
        filters.pipeline.pk,
        filters.team_id,
        filters.rep_id,
        filters.from_leads,
        filters.history_days,
    )
    recent[spec] = timezone.now().isoformat()
    cache.set(FLOW_RECENT_KEY, recent, None)


def review_flows_refresh() -> int:
    """Recompute the stage-flow figures of every review opened in the last day (periodic, more
    often than ``FLOW_CACHE_SECONDS``); forget older ones. Returns how many were refreshed. A
    user who left or a pipeline that is gone drops out."""
    recent: dict[tuple[Any, ...], str] = cache.get(FLOW_RECENT_KEY) or {}
    cutoff = timezone.now() - timedelta(days=FLOW_RECENT_DAYS)
    keep = {k: v for k, v in recent.items() if datetime.fromisoformat(v) >= cutoff}
    users = User.objects.filter(pk__in={k[0] for k in keep}, is_active=True).in_bulk()
    pipelines = Pipeline.objects.filter(pk__in={k[1] for k in keep}).in_bulk()
    stages_of: dict[int, list[Stage]] = {}
    for stage in Stage.objects.filter(pipeline__in=list(pipelines)).order_by("position"):
        stages_of.setdefault(stage.pipeline_id, []).append(stage)
    today = timezone.localdate()
    refreshed = 0
    for spec in list(keep):
        user_id, pipeline_id, team_id, rep_id, from_leads, history_days = spec
        user, pipeline = users.get(user_id), pipelines.get(pipeline_id)
        if user is None or pipeline is None:
            del keep[spec]
            continue
        filters = ReviewFilters(
            pipeline=pipeline,
            today=today,
            team_id=team_id,
            rep_id=rep_id,
            from_leads=from_leads,
            history_days=history_days,
        )
        scope = review_scope(user=user, filters=filters)
        since = _start_of(today - timedelta(days=history_days))
        stages = stages_of.get(pipeline_id, [])
        _flows_compute(scope, since, stages, _flows_key(scope, since, stages))
        refreshed += 1
    cache.set(FLOW_RECENT_KEY, keep, None)
    return refreshed


def _moves(scope: QuerySet[Deal], since: datetime) -> pd.DataFrame:
    """One query: what happened to the deals since ``since`` (created, stage moves, close-date
    changes) with each deal's amount and currency. Stages come from the entries' columns; only
    a close-date change is read from its JSON."""
    qs = _timeline(
        scope,
        Q(events__stage__isnull=False)
        | Q(events__kind=DealEvent.Kind.FIELD, events__data__field="close_date"),
        Q(events__occurred_at__gte=since),
    ).values_list(
        "pk",
        "events__kind",
        "events__from_stage_id",
        "events__stage_id",
        KeyTextTransform("from", "events__data"),
        KeyTextTransform("to", "events__data"),
        "amount",
        "currency",
    )
    columns = ["deal_id", "kind", "from_stage", "to_stage", "from_value", "to_value"]
    frame = pd.DataFrame(_raw_rows(qs), columns=[*columns, "amount", "currency"])
    for name in ("from_stage", "to_stage"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce")
    return frame


def _movement_ids(week: pd.DataFrame, stages: list[Stage]) -> dict[str, pd.DataFrame]:
    """Per movement kind, the deals (id, amount, currency) that moved that way."""
    position = pd.Series({s.pk: s.position for s in stages}, dtype="float64")
    kind = pd.Series({s.pk: s.kind for s in stages}, dtype="object")
    moves = week[week["kind"] == DealEvent.Kind.STAGE]
    to_kind = moves["to_stage"].map(kind)
    to_pos = moves["to_stage"].map(position)
    from_pos = moves["from_stage"].map(position)
    open_move = to_kind == Stage.Kind.OPEN
    dates = week[week["kind"] == DealEvent.Kind.FIELD]
    pushed = pd.to_datetime(dates["to_value"], errors="coerce") > pd.to_datetime(
        dates["from_value"], errors="coerce"
    )
    picked = {
        "new": week[week["kind"] == DealEvent.Kind.CREATED],
        "advanced": moves[open_move & (to_pos > from_pos)],
        "slipped": pd.concat([dates[pushed], moves[open_move & (to_pos < from_pos)]]),
        "won": moves[to_kind == Stage.Kind.WON],
        "lost": moves[to_kind == Stage.Kind.LOST],
    }
    return {
        k: v.drop_duplicates("deal_id")[["deal_id", "amount", "currency"]]
        for k, v in picked.items()
    }


def _flows(spells: np.ndarray, stages: list[Stage]) -> list[StageFlow]:
    """Stage conversion and days in stage from the spells that began in the history window.

    A spell starts when a deal is created in, or moved to, a stage; it ends at the deal's next
    move. Conversion of a stage is the share of the spells that ended by moving forward (a
    later open stage or a won stage); days in stage are over the ended spells. Vectorised:
    one sort by (deal, time), then each spell's successor is the next row of the same deal;
    the per-stage figures are counted with ``bincount`` and the medians read from one sort of
    the ended spells by (stage, days)."""
    spells = spells[~np.isnan(spells[:, 2])]
    order = np.lexsort((spells[:, 1], spells[:, 0]))
    deal, at, entered = (spells[order, i] for i in range(3))
    n_stages = len(stages)
    ids = np.array([s.pk for s in stages], dtype="float64")
    sorter = np.argsort(ids)
    spot = np.clip(np.searchsorted(ids, entered, sorter=sorter), 0, max(n_stages - 1, 0))
    index = sorter[spot] if n_stages else np.zeros(len(entered), dtype=int)
    known = ids[index] == entered if n_stages else np.zeros(len(entered), dtype=bool)
    has_next = np.zeros(len(deal), dtype=bool)
    has_next[:-1] = deal[1:] == deal[:-1]
    has_next &= known & np.roll(known, -1)
    nxt = np.roll(index, -1)
    days = (np.roll(at, -1) - at) / 86400.0
    position = np.array([s.position for s in stages], dtype="float64")
    is_open = np.array([s.kind == Stage.Kind.OPEN for s in stages], dtype=bool)
    is_won = np.array([s.kind == Stage.Kind.WON for s in stages], dtype=bool)
    if len(deal):
        forward = has_next & (is_won[nxt] | (is_open[nxt] & (position[nxt] > position[index])))
    else:
        forward = has_next
    n_entered = np.bincount(index[known], minlength=n_stages)
    left_stage, left_days = index[has_next], days[has_next]
    n_left = np.bincount(left_stage, minlength=n_stages)
    n_advanced = np.bincount(index[forward], minlength=n_stages)
    total_days = np.bincount(left_stage, weights=left_days, minlength=n_stages)
    by_stage = left_days[np.lexsort((left_days, left_stage))]
    starts = np.concatenate(([0], np.cumsum(n_left)[:-1])).astype(int)
    flows = []
    for i, stage in enumerate(stages):
        if stage.kind != Stage.Kind.OPEN:
            continue
        left, advanced = int(n_left[i]), int(n_advanced[i])
        low, high = starts[i] + (left - 1) // 2, starts[i] + left // 2
        flows.append(
            StageFlow(
                stage=stage,
                entered=int(n_entered[i]),
                left=left,
                advanced=advanced,
                conversion=advanced / left if left else None,
                avg_days=float(total_days[i] / left) if left else None,
                median_days=float((by_stage[low] + by_stage[high]) / 2) if left else None,
            )
        )
    return flows


def _soonest(
    deals: QuerySet[Deal], frame: pd.DataFrame, flag: str, stage_ids: list[int]
) -> tuple[list[int], int]:
    """The ids of the ``LIST_LIMIT`` soonest-closing deals of ``deals`` and how many there are.

    As on the board: one LIMIT query per open stage that has such deals walks the
    (status, stage, close_date, id) index and stops early, where one query over every stage
    would sort all the matching deals; the count comes from the aggregate already read."""
    per_stage = frame.groupby("stage_id")[flag].sum() if len(frame) else pd.Series(dtype=int)
    found: list[tuple[date, int]] = []
    for stage_id in stage_ids:
        if per_stage.get(stage_id, 0):
            found += list(
                deals.filter(stage_id=stage_id)
                .order_by("close_date", "id")
                .values_list("close_date", "pk")[:LIST_LIMIT]
            )
    found.sort()
    total = int(per_stage.sum()) if len(per_stage) else 0
    return [pk for _, pk in found[:LIST_LIMIT]], total


def review(*, user: Any, filters: ReviewFilters, stages: list[Stage]) -> Review:
    """The whole review page's data in a fixed number of queries (see the module docstring)."""
    scope = review_scope(user=user, filters=filters)
    open_deals = scope.filter(status=Deal.Status.OPEN)
    frame = _open_aggregate(open_deals, filters)
    by_currency = frame.groupby("currency")["n"].sum().sort_values(ascending=False)
    currency = str(by_currency.index[0]) if len(by_currency) else "EUR"
    others = [str(c) for c in by_currency.index[1:]]

    history_since = _start_of(filters.today - timedelta(days=filters.history_days))
    movement_since = _start_of(filters.today - timedelta(days=filters.movement_days))
    moved = _movement_ids(_moves(scope, movement_since), stages)
    flows = _flows_cached(scope, history_since, stages)
    _flows_remember(user=user, filters=filters)

    listed: dict[str, list[int]] = {}
    for k, ids in moved.items():
        largest = ids.assign(size=ids["amount"].astype(float)).nlargest(MOVEMENT_LIST, "size")
        listed[k] = [int(i) for i in largest["deal_id"]]
    open_ids = [s.pk for s in stages if s.kind == Stage.Kind.OPEN]
    stale_ids, stale_count = _soonest(
        open_deals.filter(_stale_q(filters)), frame, "stale", open_ids
    )
    overdue_ids, overdue_count = _soonest(
        open_deals.filter(_overdue_q(filters)), frame, "overdue", open_ids
    )
    # Every deal the page lists, in one query.
    wanted = {i for ids in listed.values() for i in ids} | set(stale_ids) | set(overdue_ids)
    by_id = (
        {d.pk: d for d in Deal.objects.filter(pk__in=wanted).select_related("owner", "stage")}
        if wanted
        else {}
    )
    movement = []
    for k in MOVEMENT_KINDS:
        ids = moved[k]
        mine = ids[ids["currency"] == currency]
        movement.append(
            MovementSection(
                kind=k,
                label=MOVEMENT_LABELS[k],
                count=len(ids),
                amount=_dec(mine["amount"].sum()) if len(mine) else Decimal("0"),
                deals=[by_id[i] for i in listed[k] if i in by_id],
            )
        )

    matrix, totals, chart = _matrix(frame, [s for s in stages if not s.is_closed], currency)
    owner_ids = [int(i) for i in frame["owner_id"].unique()] if len(frame) else []
    owners = {u.pk: u for u in User.objects.filter(pk__in=owner_ids)} if owner_ids else {}
    return Review(
        filters=filters,
        currency=currency,
        other_currencies=others,
        categories=[(v, label) for v, label in ForecastCategory.choices if v in OPEN_CATEGORIES],
        matrix=matrix,
        totals=totals,
        reps=_reps(frame, currency, owners),
        movement=movement,
        flows=flows,
        stale=[by_id[i] for i in stale_ids if i in by_id],
        stale_count=stale_count,
        overdue=[by_id[i] for i in overdue_ids if i in by_id],
        overdue_count=overdue_count,
        chart=chart,
    )
