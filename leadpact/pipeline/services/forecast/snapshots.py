"""Weekly snapshots of every forecast method (taken, or replayed from the deals' timelines) and
their accuracy once a period has closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.common.errors import ApplicationError
from leadpact.pipeline.engine.accuracy import accuracy_by_method, accuracy_by_period
from leadpact.pipeline.models import (
    Deal,
    DealEvent,
    ForecastCategory,
    ForecastSnapshot,
    PeriodKind,
    Stage,
)
from leadpact.pipeline.periods import period_of
from leadpact.pipeline.quota_selectors import cents, won_deals
from leadpact.pipeline.services.forecast.learning import DEFAULT_SLIP, Slip, slip_learned
from leadpact.pipeline.services.forecast.period import (
    Probabilities,
    forecast_compute,
    money,
    open_frame,
    probabilities,
)
from leadpact.pipeline.services.forecast.scopes import Scope, scope_check

SNAPSHOT_TRIALS = 2_000


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def snapshot_scopes() -> list[Scope]:
    """The company, every sales team with members, every active salesperson."""
    teams = list(Team.objects.filter(kind=Team.Kind.SALES, members__isnull=False).distinct())
    people = list(
        User.objects.filter(is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER])
    )
    return [Scope(), *(Scope(team=t) for t in teams), *(Scope(rep=p) for p in people)]


WON_COLUMNS = ["owner_id", "owner__team_id", "currency", "total"]


def _snapshot_rows(
    *,
    everything: pd.DataFrame,
    probs: Probabilities,
    won: pd.DataFrame,
    period: Any,
    scopes: list[Scope],
    week: date,
    taken_at: datetime,
    slip: Slip,
    n_trials: int,
) -> list[ForecastSnapshot]:
    """Every scope's and currency's four methods for one period, each scope a slice of the
    same open deals (``everything``) and won revenue (``won``, one row per owner)."""
    rows: list[ForecastSnapshot] = []
    currencies = sorted(set(everything["currency"]) | set(won["currency"]))
    M = ForecastSnapshot.Method
    for currency in currencies:
        for scope in scopes:
            mask = (everything["currency"] == currency).to_numpy().copy()
            won_mask = (won["currency"] == currency).to_numpy().copy()
            if scope.rep is not None:
                mask &= (everything["owner_id"] == scope.rep.pk).to_numpy()
                won_mask &= (won["owner_id"] == scope.rep.pk).to_numpy()
            elif scope.team is not None:
                mask &= (everything["owner__team_id"] == scope.team.pk).to_numpy()
                won_mask &= (won["owner__team_id"] == scope.team.pk).to_numpy()
            if not mask.any() and not won_mask.any():
                continue
            won_by_owner: dict[int, Decimal] = {}
            for owner, total in won.loc[won_mask, ["owner_id", "total"]].itertuples(index=False):
                won_by_owner[owner] = won_by_owner.get(owner, Decimal("0")) + cents(total)
            result = forecast_compute(
                everything.loc[mask].reset_index(drop=True),
                Probabilities(probs.stage[mask], probs.win[mask], probs.source),
                won_by_owner,
                start=period.start,
                end=period.end,
                currency=currency,
                quota=None,
                quota_source="",
                slip=slip,
                slip_probability=slip.probability,
                scope=scope,
                n_trials=n_trials,
                random_state=0,
            )
            common = {
                "week": week,
                "period_kind": period.kind,
                "start": period.start,
                "end": period.end,
                "scope": scope.key,
                "currency": currency,
                "taken_at": taken_at,
            }
            rows += [
                ForecastSnapshot(**common, method=M.WEIGHTED, value=money(result.weighted)),
                ForecastSnapshot(**common, method=M.COMMIT, value=result.adjusted_commit),
                ForecastSnapshot(**common, method=M.BEST_CASE, value=result.adjusted_best_case),
                ForecastSnapshot(
                    **common,
                    method=M.MONTE_CARLO,
                    value=money(result.p50),
                    p10=money(result.p10),
                    p90=money(result.p90),
                ),
            ]
    return rows


def _store(rows: list[ForecastSnapshot]) -> int:
    """Insert, leaving any (week, period, scope, method, currency) already stored as it was."""
    weeks = sorted({r.week for r in rows})
    with transaction.atomic():
        before = ForecastSnapshot.objects.filter(week__in=weeks).count()
        ForecastSnapshot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        return ForecastSnapshot.objects.filter(week__in=weeks).count() - before


def forecast_snapshots_take(*, today: date | None = None, n_trials: int = SNAPSHOT_TRIALS) -> int:
    """This week's forecast of the current month and quarter, per scope, currency and method
    (weighted, commit roll-up with the managers' adjustments, best case, Monte Carlo P50 with
    P10/P90). The first run of a week stands: a second run inserts nothing (unique per week,
    period, scope, method and currency). Returns the rows written.

    The open deals, their probabilities, the slip and the won revenue are read once; each scope
    is a slice of them."""
    today = today or timezone.localdate()
    now = timezone.now()
    slip = slip_learned()
    scopes = snapshot_scopes()
    rows: list[ForecastSnapshot] = []
    for period in (period_of(PeriodKind.MONTH, today), period_of(PeriodKind.QUARTER, today)):
        everything = open_frame(Deal.objects.all(), start=period.start, end=period.end, today=today)
        won = pd.DataFrame.from_records(
            won_deals(start=period.start, end=period.end)
            .values("owner_id", "owner__team_id", "currency")
            .annotate(total=Sum("amount"))
            .order_by(),
            columns=WON_COLUMNS,
        )
        rows += _snapshot_rows(
            everything=everything,
            probs=probabilities(everything, now=now),
            won=won,
            period=period,
            scopes=scopes,
            week=week_of(today),
            taken_at=now,
            slip=slip,
            n_trials=n_trials,
        )
    return _store(rows)


HISTORY_COLUMNS = [
    "pk",
    "amount",
    "currency",
    "close_date",
    "forecast_category",
    "status",
    "closed_at",
    "owner_id",
    "owner__team_id",
    "pipeline_id",
]


def _history_frame() -> tuple[pd.DataFrame, pd.DataFrame, dict[int, dict[str, Any]]]:
    """Every deal with its current values, and its timeline's stage, amount, close-date and
    category changes (three queries: deals, events, stages)."""
    deals = pd.DataFrame.from_records(
        Deal.objects.values_list(*HISTORY_COLUMNS), columns=HISTORY_COLUMNS
    )
    events = pd.DataFrame.from_records(
        DealEvent.objects.filter(
            Q(kind__in=[DealEvent.Kind.CREATED, DealEvent.Kind.STAGE, DealEvent.Kind.AMOUNT])
            | Q(kind=DealEvent.Kind.FIELD, data__field__in=["close_date", "forecast_category"])
        )
        .order_by()
        .values_list("deal_id", "kind", "occurred_at", "data", "stage_id"),
        columns=["pk", "kind", "occurred_at", "data", "stage_id"],
    )
    stages: dict[int, dict[str, Any]] = {}
    by_pipeline: dict[int, list[Stage]] = {}
    for stage in Stage.objects.order_by("pipeline_id", "position", "id"):
        by_pipeline.setdefault(stage.pipeline_id, []).append(stage)
    for pipeline_stages in by_pipeline.values():
        open_stages = [s for s in pipeline_stages if s.kind == Stage.Kind.OPEN]
        for stage in pipeline_stages:
            rank = open_stages.index(stage) if stage in open_stages else -1
            category = ForecastCategory.PIPELINE
            if rank >= 0 and rank == len(open_stages) - 1:
                category = ForecastCategory.COMMIT
            elif rank >= 0 and rank == len(open_stages) - 2:
                category = ForecastCategory.BEST_CASE
            stages[stage.pk] = {
                "kind": stage.kind,
                "probability": stage.probability / 100,
                "category": category,
            }
    return deals, events, stages


def _as_of(
    deals: pd.DataFrame,
    events: pd.DataFrame,
    stages: dict[int, dict[str, Any]],
    moment: datetime,
) -> pd.DataFrame:
    """The deals that were open at ``moment``, as they stood then: stage (the last stage
    event before it), amount, expected close date and category (a value changed later is
    taken from that change's ``from``). A closed deal's category then is not on record (closing
    overwrites it): it is inferred from the stage it was in (the last open stage commit, the
    one before best case, else pipeline)."""
    before = events[events["occurred_at"] <= moment]
    after = events[events["occurred_at"] > moment].sort_values("occurred_at", kind="stable")
    moves = before[before["stage_id"].notna()]
    moves = moves.sort_values("occurred_at", kind="stable").drop_duplicates("pk", keep="last")
    stage_then = moves.set_index("pk")["stage_id"]
    frame = deals[deals["pk"].isin(stage_then.index)].copy()
    frame["stage_id"] = frame["pk"].map(stage_then).astype("Int64")
    frame = frame[frame["stage_id"].map(lambda s: stages.get(int(s), {}).get("kind")) == "open"]

    def first_from(kind: str, field_name: str | None = None) -> pd.Series:
        rows = after[after["kind"] == kind]
        if field_name is not None:
            rows = rows[rows["data"].map(lambda d: d.get("field") == field_name).astype(bool)]
        return rows.drop_duplicates("pk").set_index("pk")["data"].map(lambda d: d.get("from"))

    amount_then = first_from(DealEvent.Kind.AMOUNT)
    close_then = first_from(DealEvent.Kind.FIELD, "close_date")
    category_then = first_from(DealEvent.Kind.FIELD, "forecast_category")
    frame["amount"] = [
        float(amount_then.get(pk, amount))
        for pk, amount in zip(frame["pk"], frame["amount"], strict=True)
    ]
    frame["close_date"] = [
        date.fromisoformat(close_then[pk]) if pk in close_then.index else close
        for pk, close in zip(frame["pk"], frame["close_date"], strict=True)
    ]
    inferred = frame["stage_id"].map(lambda s: stages[int(s)]["category"])
    frame["forecast_category"] = [
        category_then.get(pk, inferred_category if current == ForecastCategory.CLOSED else current)
        for pk, current, inferred_category in zip(
            frame["pk"], frame["forecast_category"], inferred, strict=True
        )
    ]
    frame["stage_probability"] = frame["stage_id"].map(lambda s: stages[int(s)]["probability"])
    return frame.reset_index(drop=True)


def forecast_snapshots_replay(
    *, since: date, until: date | None = None, n_trials: int = SNAPSHOT_TRIALS
) -> int:
    """Backfill the weekly snapshots of the weeks from ``since`` to ``until`` (default today)
    from the deals' timelines, as if each had been taken at its Monday's start, then score the
    closed periods. For a team that starts using forecasts with history already in the system
    (and the demo): the accuracy history is there from day one.

    A replayed week sees the deals as they stood (``_as_of``), the revenue won before it, the
    configured stage probabilities and the default slip: the learned ones would peek at
    outcomes that came after the week. Weeks already stored are left as they were. Returns the
    rows written."""
    until = until or timezone.localdate()
    if until < since:
        raise ApplicationError("The replay ends before it starts.")
    deals, events, stages = _history_frame()
    if deals.empty or events.empty:
        return 0
    scopes = snapshot_scopes()
    slip = Slip(DEFAULT_SLIP, False, 0, 0, None)
    zone = timezone.get_current_timezone()
    rows: list[ForecastSnapshot] = []
    week = week_of(since)
    while week <= until:
        moment = datetime.combine(week, datetime.min.time(), tzinfo=zone)
        state = _as_of(deals, events, stages, moment)
        for period in (period_of(PeriodKind.MONTH, week), period_of(PeriodKind.QUARTER, week)):
            period_start = datetime.combine(period.start, datetime.min.time(), tzinfo=zone)
            expected = state[
                (state["close_date"] <= period.end)
                & (state["close_date"] >= min(period.start, week))
                & (state["forecast_category"] != ForecastCategory.OMITTED)
            ].reset_index(drop=True)
            closed_at = pd.to_datetime(deals["closed_at"], utc=True)
            won_mask = (
                (deals["status"] == Deal.Status.WON)
                & (closed_at >= pd.Timestamp(period_start))
                & (closed_at < pd.Timestamp(moment))
            )
            won = (
                deals[won_mask]
                .groupby(["owner_id", "owner__team_id", "currency"], dropna=False)["amount"]
                .sum()
                .reset_index()
                .rename(columns={"amount": "total"})
            )
            won["total"] = won["total"].map(lambda v: Decimal(str(v)))
            p = expected["stage_probability"].to_numpy(dtype=float)
            rows += _snapshot_rows(
                everything=expected,
                probs=Probabilities(p, p, "stages"),
                won=won[WON_COLUMNS],
                period=period,
                scopes=scopes,
                week=week,
                taken_at=moment,
                slip=slip,
                n_trials=n_trials,
            )
        week += timedelta(days=7)
    written = _store(rows)
    forecast_snapshots_score(today=until)
    return written


def _scope_deals(key: str) -> QuerySet[Deal]:
    kind, _, pk = key.partition(":")
    if kind == "rep":
        return Deal.objects.filter(owner_id=int(pk))
    if kind == "team":
        return Deal.objects.filter(owner__team_id=int(pk))
    return Deal.objects.all()


@transaction.atomic
def forecast_snapshots_score(*, today: date | None = None) -> int:
    """Fill in the actual won revenue and each snapshot's error for periods that have closed.
    Only unscored rows are touched, so running it twice changes nothing. Returns rows scored.

    One query for the groups, one per (scope, period, currency) group for its won revenue,
    one update per group."""
    today = today or timezone.localdate()
    now = timezone.now()
    groups = (
        ForecastSnapshot.objects.filter(end__lt=today, scored_at__isnull=True)
        .values_list("scope", "start", "end", "currency")
        .distinct()
        .order_by()
    )
    scored = 0
    for scope, start, end, currency in list(groups):
        actual = cents(
            won_deals(start=start, end=end, currency=currency)
            .filter(pk__in=_scope_deals(scope).values("pk"))
            .aggregate(total=Sum("amount"))["total"]
        )
        rows = list(
            ForecastSnapshot.objects.select_for_update().filter(
                scope=scope, start=start, end=end, currency=currency, scored_at__isnull=True
            )
        )
        for row in rows:
            row.actual, row.error, row.scored_at = actual, row.value - actual, now
        ForecastSnapshot.objects.bulk_update(rows, ["actual", "error", "scored_at"])
        scored += len(rows)
    return scored


@dataclass
class Accuracy:
    scope: Scope
    currency: str
    periods: list[dict[str, Any]]  # per closed period: actual and per method first/mape
    methods: list[dict[str, Any]]  # per method over all periods: wape, bias, counts
    chart: dict[str, Any]


METHOD_LABELS = dict(ForecastSnapshot.Method.choices)


def forecast_accuracy(
    *, user: Any, scope: Scope, currency: str, period_kind: str = PeriodKind.MONTH, limit: int = 12
) -> Accuracy:
    """The accuracy history of the scope's scored snapshots: the last ``limit`` closed periods,
    per method. One query."""
    if user is not None:
        scope_check(user, scope)
    records = list(
        ForecastSnapshot.objects.filter(
            scope=scope.key,
            currency=currency,
            period_kind=period_kind,
            scored_at__isnull=False,
        )
        .order_by("-start", "method", "week")
        .values("start", "end", "method", "week", "value", "actual")[: limit * 4 * 6]
    )
    frame = pd.DataFrame.from_records(
        records, columns=["start", "end", "method", "week", "value", "actual"]
    )
    frame["period"] = [period_of(period_kind, start).label for start in frame["start"]]
    by_period = accuracy_by_period(frame[["period", "method", "week", "value", "actual"]])
    by_method = accuracy_by_method(frame[["period", "method", "week", "value", "actual"]])
    periods: list[dict[str, Any]] = []
    methods = [m for m in ForecastSnapshot.Method.values if m in set(by_period["method"])]
    for period, group in by_period.groupby("period", sort=True):
        per = {row["method"]: row for row in group.to_dict("records")}
        periods.append(
            {
                "period": period,
                "actual": float(group["actual"].iloc[0]),
                "methods": [
                    {
                        "method": m,
                        "label": METHOD_LABELS[m],
                        "first": per[m]["first"] if m in per else None,
                        "first_ape": _nan_none(per[m]["first_ape"]) if m in per else None,
                        "mape": _nan_none(per[m]["mape"]) if m in per else None,
                        "weeks": int(per[m]["weeks"]) if m in per else 0,
                    }
                    for m in methods
                ],
            }
        )
    summary = [
        {
            "method": row["method"],
            "label": METHOD_LABELS[row["method"]],
            "snapshots": int(row["snapshots"]),
            "periods": int(row["periods"]),
            "wape": _nan_none(row["wape"]),
            "bias": _nan_none(row["bias"]),
        }
        for row in by_method.to_dict("records")
    ]
    chart = {
        "labels": [p["period"] for p in periods],
        "series": [
            {
                "label": METHOD_LABELS[m],
                "values": [
                    next(
                        (
                            None if x["mape"] is None else round(100 * x["mape"], 1)
                            for x in p["methods"]
                            if x["method"] == m
                        ),
                        None,
                    )
                    for p in periods
                ],
            }
            for m in methods
        ],
    }
    return Accuracy(scope=scope, currency=currency, periods=periods, methods=summary, chart=chart)


def _nan_none(value: Any) -> float | None:
    try:
        return None if value is None or np.isnan(value) else float(value)
    except TypeError:
        return None
