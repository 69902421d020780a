"""The forecast of one period: weighted pipeline, the reps' commit / best-case roll-up with the
managers' adjustments, and the Monte Carlo range with the chance of reaching the quota."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError
from leadpact.pipeline.engine.simulator import MonteCarloForecast
from leadpact.pipeline.engine.weighted import weighted_pipeline
from leadpact.pipeline.engine.win_model import WinProbabilityModel
from leadpact.pipeline.models import (
    Deal,
    ForecastAdjustment,
    ForecastCategory,
    Pipeline,
)
from leadpact.pipeline.quota_selectors import cents, stored_quota, won_deals
from leadpact.pipeline.services.forecast.learning import (
    MIN_HISTORY,
    Slip,
    slip_learned,
    stage_rates,
    win_model_for,
)
from leadpact.pipeline.services.forecast.scopes import Scope, scope_check, scope_deals

MAX_DEALS = 200_000
OPEN_COLUMNS = [
    "pk",
    "amount",
    "currency",
    "close_date",
    "pipeline_id",
    "stage_id",
    "stage__name",
    "stage__probability",
    "forecast_category",
    "stage_entered_at",
    "source_channel",
    "lead_score",
    "owner_id",
    "owner__team_id",
]


def open_frame(qs: QuerySet[Deal], *, start: date, end: date, today: date) -> pd.DataFrame:
    """Open deals expected to close by ``end`` (and not before ``start`` unless the period has
    begun: an overdue deal is still expected now), omitted ones left out. One query."""
    qs = qs.filter(
        status=Deal.Status.OPEN, close_date__lte=end, close_date__gte=min(start, today)
    ).exclude(forecast_category=ForecastCategory.OMITTED)
    rows = list(qs.values_list(*OPEN_COLUMNS)[: MAX_DEALS + 1])
    if len(rows) > MAX_DEALS:
        raise ApplicationError(f"More than {MAX_DEALS} open deals: narrow the forecast.")
    frame = pd.DataFrame.from_records(rows, columns=OPEN_COLUMNS)
    frame["amount"] = frame["amount"].astype(float) if len(frame) else frame["amount"]
    return frame


@dataclass
class Probabilities:
    stage: np.ndarray  # per deal: learned stage rate or configured
    win: np.ndarray  # per deal: the model's where it applies, else ``stage``
    source: str  # "model", "stages" or "mixed"
    models: dict[int, WinProbabilityModel] = field(default_factory=dict)


def probabilities(frame: pd.DataFrame, *, now: datetime) -> Probabilities:
    n = len(frame)
    stage_p = np.zeros(n)
    win_p = np.zeros(n)
    models: dict[int, WinProbabilityModel] = {}
    used_model = used_stages = False
    if n == 0:
        return Probabilities(stage_p, win_p, "stages")
    for pipeline in Pipeline.objects.filter(pk__in=frame["pipeline_id"].unique().tolist()):
        rows = (frame["pipeline_id"] == pipeline.pk).to_numpy()
        learned = {
            r.stage.pk: r.learned
            for r in stage_rates(pipeline=pipeline)
            if r.learned is not None and r.reached >= MIN_HISTORY
        }
        sub = frame.loc[rows]
        configured = sub["stage__probability"].to_numpy(dtype=float) / 100
        stage_p[rows] = [
            learned.get(s, c) for s, c in zip(sub["stage_id"], configured, strict=True)
        ]
        model = win_model_for(pipeline=pipeline)
        if model is None:
            win_p[rows] = stage_p[rows]
            used_stages = True
            continue
        models[pipeline.pk] = model
        entered = pd.to_datetime(sub["stage_entered_at"], utc=True)
        features = pd.DataFrame(
            {
                "stage": sub["stage__name"].to_numpy(),
                "age_in_stage_days": (
                    (pd.Timestamp(now) - entered).dt.total_seconds().clip(lower=0) / 86400
                ).to_numpy(),
                "amount": sub["amount"].to_numpy(dtype=float),
                "source_channel": sub["source_channel"].replace("", "direct").to_numpy(),
                "lead_score": sub["lead_score"].to_numpy(dtype=float),
            }
        )
        win_p[rows] = np.clip(model.predict_proba(features), 0.0, 1.0)
        used_model = True
    source = "mixed" if used_model and used_stages else ("model" if used_model else "stages")
    return Probabilities(stage_p, win_p, source, models)


# --- the roll-up ---------------------------------------------------------------------------------


@dataclass
class RollupRow:
    rep: User
    won: Decimal
    commit: Decimal  # won + open deals the rep calls commit
    best_case: Decimal  # commit + open deals the rep calls best case
    adjustment: ForecastAdjustment | None = None

    @property
    def adjusted_commit(self) -> Decimal:
        return self.adjustment.commit if self.adjustment else self.commit

    @property
    def adjusted_best_case(self) -> Decimal:
        if self.adjustment and self.adjustment.best_case is not None:
            return self.adjustment.best_case
        return max(self.best_case, self.adjusted_commit)


def _rollup(
    frame: pd.DataFrame,
    won_by_owner: dict[int, Decimal],
    *,
    start: date,
    end: date,
    currency: str,
) -> list[RollupRow]:
    """Per rep: won + their own commit and best-case calls, with the manager's adjustment.
    Two queries (the reps, their adjustments)."""
    amounts = frame.assign(
        commit=np.where(frame["forecast_category"] == ForecastCategory.COMMIT, frame["amount"], 0),
        best=np.where(
            frame["forecast_category"].isin([ForecastCategory.COMMIT, ForecastCategory.BEST_CASE]),
            frame["amount"],
            0,
        ),
    )
    per_owner = amounts.groupby("owner_id")[["commit", "best"]].sum() if len(frame) else None
    owners = set(won_by_owner) | (set(per_owner.index.tolist()) if per_owner is not None else set())
    adjustments = {
        a.rep_id: a
        for a in ForecastAdjustment.objects.filter(
            start=start, end=end, currency=currency, rep_id__in=owners
        ).select_related("set_by")
    }
    rows = []
    for rep in User.objects.filter(pk__in=owners).order_by("first_name", "last_name", "username"):
        won = won_by_owner.get(rep.pk, Decimal("0"))
        commit = best = Decimal("0")
        if per_owner is not None and rep.pk in per_owner.index:
            commit = Decimal(str(round(per_owner.at[rep.pk, "commit"], 2)))
            best = Decimal(str(round(per_owner.at[rep.pk, "best"], 2)))
        rows.append(
            RollupRow(
                rep=rep,
                won=won,
                commit=won + commit,
                best_case=won + best,
                adjustment=adjustments.get(rep.pk),
            )
        )
    return rows


# --- the forecast ----------------------------------------------------------------------------


@dataclass
class Forecast:
    start: date
    end: date
    currency: str
    deals: int
    closed_won: Decimal
    weighted: float
    p10: float
    p50: float
    p90: float
    expected: float
    quota: Decimal | None
    attainment: float | None  # the chance of reaching the quota
    by_category: dict[str, float] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)
    quota_source: str = ""  # "stored", "typed" or ""
    probability_source: str = "stages"  # "model", "stages" or "mixed"
    slip: Slip | None = None
    rollup: list[RollupRow] = field(default_factory=list)
    commit: Decimal = Decimal("0")
    best_case: Decimal = Decimal("0")
    adjusted_commit: Decimal = Decimal("0")
    adjusted_best_case: Decimal = Decimal("0")

    @property
    def won_share_of_quota(self) -> float | None:
        if not self.quota:
            return None
        return float(self.closed_won / self.quota)

    @property
    def probability_description(self) -> str:
        return {
            "model": "per deal, from the win model learned from your closed deals",
            "stages": (
                "per stage (learned where enough closed deals passed through, else configured): "
                "too little closed history for the win model"
            ),
            "mixed": "per deal from the win model where a pipeline's history suffices, "
            "else per stage",
        }[self.probability_source]


def money(value: float) -> Decimal:
    return Decimal(str(round(float(value), 2)))


def forecast_compute(
    frame: pd.DataFrame,
    probs: Probabilities,
    won_by_owner: dict[int, Decimal],
    *,
    start: date,
    end: date,
    currency: str,
    quota: Decimal | None,
    quota_source: str,
    slip: Slip,
    slip_probability: float,
    scope: Scope,
    n_trials: int,
    random_state: int | None,
) -> Forecast:
    amounts = frame["amount"].to_numpy(dtype=np.float64) if len(frame) else np.zeros(0)
    won = sum(won_by_owner.values(), Decimal("0"))
    sim = MonteCarloForecast(n_trials=n_trials, random_state=random_state)
    sim.fit(amounts, probs.win, slip_probability)
    p10, p50, p90 = (float(v) + float(won) for v in sim.percentiles([10, 50, 90]))
    attainment = None
    if quota is not None:
        attainment = sim.attainment_probability(float(quota) - float(won))
    categories: dict[str, float] = {}
    if len(frame):
        categories = {
            str(k): float(v) for k, v in frame.groupby("forecast_category")["amount"].sum().items()
        }
    rollup = _rollup(frame, won_by_owner, start=start, end=end, currency=currency)
    return Forecast(
        start=start,
        end=end,
        currency=currency,
        deals=len(frame),
        closed_won=won,
        weighted=float(won) + weighted_pipeline(amounts, probs.stage * (1 - slip_probability)),
        p10=p10,
        p50=p50,
        p90=p90,
        expected=float(won) + sim.expected_revenue_,
        quota=quota,
        attainment=attainment,
        by_category=categories,
        scope=scope,
        quota_source=quota_source if quota is not None else "",
        probability_source=probs.source,
        slip=slip,
        rollup=rollup,
        commit=sum((r.commit for r in rollup), Decimal("0")),
        best_case=sum((r.best_case for r in rollup), Decimal("0")),
        adjusted_commit=sum((r.adjusted_commit for r in rollup), Decimal("0")),
        adjusted_best_case=sum((r.adjusted_best_case for r in rollup), Decimal("0")),
    )


def _won_by_owner(qs: QuerySet[Deal], *, start: date, end: date, currency: str) -> dict:
    won = won_deals(start=start, end=end, currency=currency).filter(pk__in=qs.values("pk"))
    return {
        row["owner_id"]: cents(row["total"])
        for row in won.values("owner_id").annotate(total=Sum("amount")).order_by()
    }


def forecast_period(
    *,
    user: Any,
    start: date,
    end: date,
    quota: Decimal | None = None,
    currency: str | None = None,
    scope: Scope | None = None,
    slip_probability: float | None = None,
    n_trials: int = 10_000,
    random_state: int | None = 0,
) -> Forecast:
    """Revenue expected to close won in ``start``..``end`` from the open deals of ``scope``
    (a rep, a team, or everything ``user`` may see), plus what was already won in it.

    The quota for the chance of reaching it: ``quota`` when typed in (an override), else the
    stored quota of the scope for exactly this period (or the sum of its monthly quotas).
    ``slip_probability``: None learns it from history (``slip_learned``).
    """
    if end < start:
        raise ApplicationError("The period ends before it starts.")
    if slip_probability is not None and not 0 <= slip_probability <= 1:
        raise ApplicationError("The slip probability is between 0 and 1.")
    if quota is not None and quota < 0:
        raise ApplicationError("A quota can't be negative.")
    scope = scope or Scope()
    if user is not None:
        scope_check(user, scope)
    stored, stored_currency = None, ""
    if scope.rep is not None or scope.team is not None:
        stored, stored_currency, _q, _src = stored_quota(
            start=start, end=end, rep=scope.rep, team=scope.team
        )
    qs = scope_deals(user, scope)
    if currency:
        currency = currency.strip().upper()
    else:
        in_use = (
            qs.filter(status=Deal.Status.OPEN)
            .values("currency")
            .annotate(n=Count("id"))
            .order_by("-n")
            .values_list("currency", flat=True)
        )
        currency = stored_currency or next(iter(in_use), "EUR")
    quota_source = "typed" if quota is not None else ""
    if quota is None and stored is not None and stored_currency == currency:
        quota, quota_source = stored, "stored"
    today = timezone.localdate()
    frame = open_frame(qs.filter(currency=currency), start=start, end=end, today=today)
    probs = probabilities(frame, now=timezone.now())
    slip = slip_learned()
    return forecast_compute(
        frame,
        probs,
        _won_by_owner(qs, start=start, end=end, currency=currency),
        start=start,
        end=end,
        currency=currency,
        quota=quota,
        quota_source=quota_source,
        slip=slip,
        slip_probability=slip.probability if slip_probability is None else slip_probability,
        scope=scope,
        n_trials=n_trials,
        random_state=random_state,
    )


# --- weekly snapshots and their accuracy ----------------------------------------------------------
