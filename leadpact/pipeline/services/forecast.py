"""The bridge from the database to the forecast engine: learned stage probabilities, the
learned win model and slip, the period forecast (weighted pipeline, the reps' commit / best
case roll-up with the managers' adjustments, and the Monte Carlo range with the chance of
reaching the quota), the weekly snapshots of every method and their accuracy once a period
has closed.

Win probabilities for the simulation: per deal from the learned win model (stage, days in
stage, amount band, source, lead score) for a pipeline whose closed history suffices
(``win_model_fit``), else per stage (the learned rate where at least ``MIN_HISTORY`` closed
deals passed through the stage, else the configured one). The weighted pipeline always uses
the stage probabilities: it is the classic method the others are compared with.

Slip: the share of won deals that were won after their first expected close date
(``SlipLearner``, smoothed toward 20% while the history is thin). An open deal closes won in
the period with probability ``win x (1 - slip)``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.accounts.roles import has_role
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.pipeline import selectors
from leadpact.pipeline.engine.accuracy import accuracy_by_method, accuracy_by_period
from leadpact.pipeline.engine.simulator import MonteCarloForecast
from leadpact.pipeline.engine.slip import SlipLearner
from leadpact.pipeline.engine.stage_probability import StageProbabilityLearner
from leadpact.pipeline.engine.weighted import weighted_pipeline
from leadpact.pipeline.engine.win_model import WinProbabilityModel
from leadpact.pipeline.models import (
    Deal,
    DealEvent,
    ForecastAdjustment,
    ForecastCategory,
    ForecastSnapshot,
    PeriodKind,
    Pipeline,
    Stage,
)
from leadpact.pipeline.periods import period_of
from leadpact.pipeline.policies import visible_deals
from leadpact.pipeline.quota_policies import can_view_rep, can_view_team
from leadpact.pipeline.quota_selectors import cents, stored_quota, won_deals

MIN_HISTORY = 20  # closed deals through a stage before its learned rate replaces the setting
MIN_SLIP_HISTORY = 20  # won deals before the slip is called learned
DEFAULT_SLIP = 0.2
MAX_DEALS = 200_000
SNAPSHOT_TRIALS = 2_000


@dataclass
class StageRate:
    stage: Stage
    configured: float
    learned: float | None
    reached: int
    won: int


def stage_rates(*, pipeline: Pipeline) -> list[StageRate]:
    """Each stage's configured probability beside the one learned from closed deals."""
    stages = selectors.pipeline_stages(pipeline)
    _ids, reached_sets, won = selectors.stage_history(pipeline=pipeline)
    column = {s.pk: i for i, s in enumerate(stages)}
    reached = np.zeros((len(reached_sets), len(stages)), dtype=bool)
    for row, stage_ids in enumerate(reached_sets):
        for stage_id in stage_ids:
            if stage_id in column:
                reached[row, column[stage_id]] = True
    learner = StageProbabilityLearner().fit(reached, np.asarray(won, dtype=bool))
    return [
        StageRate(
            stage=s,
            configured=s.probability / 100,
            learned=None if learner.reached_[i] == 0 else float(learner.probabilities_[i]),
            reached=int(learner.reached_[i]),
            won=int(learner.won_[i]),
        )
        for i, s in enumerate(stages)
    ]


MIN_MODEL_ROWS = 30
# Ages (days in the stage) at which a closed deal's stay in a stage is looked at.
SNAPSHOT_AGES = (0, 7, 14, 30, 60, 90, 180)


def stage_snapshots(spells: pd.DataFrame) -> pd.DataFrame:
    """Each closed stay in a stage seen as an open deal would have been: at every age in
    ``SNAPSHOT_AGES`` it reached, "in this stage for this long so far, later won or lost".

    An open deal's age in stage is the time *so far*; a closed stay's full length would teach
    the model that long stays are lost (they are the ones that ended), which says nothing
    about a deal 10 days into its stay. A stay of 45 days gives snapshots at 0, 7, 14 and 30.
    """
    total = spells["age_in_stage_days"].to_numpy(dtype=float)
    parts = [spells.loc[total >= age].assign(age_in_stage_days=float(age)) for age in SNAPSHOT_AGES]
    return pd.concat(parts, ignore_index=True)


def win_model_fit(*, pipeline: Pipeline) -> WinProbabilityModel | None:
    """The win-probability model learned from the pipeline's closed deals (their stays in
    each open stage, seen at the ages an open deal is asked about: ``stage_snapshots``), with
    its calibration; None while the history is too thin (fewer than ``MIN_MODEL_ROWS`` stays
    in a stage, or no win or no loss yet)."""
    rows = selectors.closed_stage_spells(pipeline=pipeline)
    if len(rows) < MIN_MODEL_ROWS:
        return None
    frame = stage_snapshots(pd.DataFrame(rows))
    won = frame.pop("won").to_numpy()
    if won.all() or not won.any():
        return None
    return WinProbabilityModel(random_state=0).fit(frame, won)


_models: dict[int, tuple[tuple[Any, ...], WinProbabilityModel | None]] = {}
_models_lock = threading.Lock()


def win_model_for(*, pipeline: Pipeline) -> WinProbabilityModel | None:
    """``win_model_fit``, refitted only when the pipeline's closed history changed (one
    aggregate query otherwise): the forecast page and the snapshots ask for it often."""
    key = tuple(
        Deal.objects.filter(pipeline=pipeline, status__in=[Deal.Status.WON, Deal.Status.LOST])
        .aggregate(n=Count("id"), closed=Max("closed_at"), changed=Max("updated_at"))
        .values()
    )
    with _models_lock:
        cached = _models.get(pipeline.pk)
    if cached is not None and cached[0] == key:
        return cached[1]
    model = win_model_fit(pipeline=pipeline)
    with _models_lock:
        _models[pipeline.pk] = (key, model)
    return model


@dataclass
class Slip:
    probability: float
    learned: bool
    won_deals: int
    slipped: int
    mean_days_late: float | None

    @property
    def description(self) -> str:
        if self.learned:
            return (
                f"learned: {self.slipped} of {self.won_deals} won deals were won after their "
                "expected close date"
            )
        return (
            f"assumed {DEFAULT_SLIP:.0%} (only {self.won_deals} won deals so far; "
            f"{MIN_SLIP_HISTORY} needed to learn it)"
        )


def slip_learned() -> Slip:
    """The chance that a deal that will be won slips past its expected close date, learned
    from every won deal: its first expected close date (the ``from`` of its first close-date
    change on the timeline, else its close date) against the day it was won. Two queries."""
    won = pd.DataFrame.from_records(
        Deal.objects.filter(status=Deal.Status.WON, closed_at__isnull=False).values_list(
            "pk", "close_date", "closed_at"
        ),
        columns=["pk", "close_date", "closed_at"],
    )
    if won.empty:
        return Slip(DEFAULT_SLIP, False, 0, 0, None)
    changes = pd.DataFrame.from_records(
        DealEvent.objects.filter(
            kind=DealEvent.Kind.FIELD, data__field="close_date", deal__status=Deal.Status.WON
        )
        .order_by("deal_id", "occurred_at", "id")
        .values_list("deal_id", "data"),
        columns=["pk", "data"],
    )
    expected = pd.to_datetime(won["close_date"])
    if not changes.empty:
        first = changes.drop_duplicates("pk").set_index("pk")["data"].map(lambda d: d.get("from"))
        earlier = pd.to_datetime(won["pk"].map(first), errors="coerce")
        expected = earlier.fillna(expected)
    closed = pd.to_datetime(won["closed_at"], utc=True).dt.tz_convert(
        timezone.get_current_timezone()
    )
    learner = SlipLearner(prior=DEFAULT_SLIP).fit(
        expected.to_numpy(dtype="datetime64[D]"),
        closed.dt.tz_localize(None).to_numpy(dtype="datetime64[D]"),
    )
    learned = learner.n_ >= MIN_SLIP_HISTORY
    return Slip(
        probability=learner.slip_probability_ if learned else DEFAULT_SLIP,
        learned=learned,
        won_deals=learner.n_,
        slipped=learner.slipped_,
        mean_days_late=None if np.isnan(learner.mean_days_late_) else learner.mean_days_late_,
    )


# --- scopes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose forecast: a rep, a sales team, or (neither) every deal the viewer may see."""

    rep: User | None = None
    team: Team | None = None

    @property
    def key(self) -> str:
        if self.rep is not None:
            return f"rep:{self.rep.pk}"
        if self.team is not None:
            return f"team:{self.team.pk}"
        return "company"

    @property
    def label(self) -> str:
        return str(self.rep or self.team or "Everything you see")


def scope_check(user: Any, scope: Scope) -> None:
    """A rep sees their own forecast, a manager their teams' and reps', admins and marketing
    everyone's."""
    if scope.rep is not None and not can_view_rep(user, scope.rep):
        raise PermissionDeniedError("You may not see this rep's forecast.")
    if scope.team is not None and not can_view_team(user, scope.team):
        raise PermissionDeniedError("You may not see this team's forecast.")


def default_scope(user: Any) -> Scope:
    if has_role(user, Role.SALES_REP):
        return Scope(rep=user)
    if has_role(user, Role.SALES_MANAGER):
        team = user.managed_teams.order_by("name").first() or user.team
        return Scope(team=team) if team is not None else Scope(rep=user)
    return Scope()


def _deals(user: Any, scope: Scope) -> QuerySet[Deal]:
    """``user=None`` is the system (snapshots): every deal."""
    qs = Deal.objects.all() if user is None else visible_deals(user)
    if scope.rep is not None:
        return qs.filter(owner=scope.rep)
    if scope.team is not None:
        return qs.filter(owner__team=scope.team)
    return qs


# --- the open deals and their probabilities ----------------------------------------------------

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


def _open_frame(qs: QuerySet[Deal], *, start: date, end: date, today: date) -> pd.DataFrame:
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


def _probabilities(frame: pd.DataFrame, *, now: datetime) -> Probabilities:
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


def _money(value: float) -> Decimal:
    return Decimal(str(round(float(value), 2)))


def _forecast(
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
    qs = _deals(user, scope)
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
    frame = _open_frame(qs.filter(currency=currency), start=start, end=end, today=today)
    probs = _probabilities(frame, now=timezone.now())
    slip = slip_learned()
    return _forecast(
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
            result = _forecast(
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
                ForecastSnapshot(**common, method=M.WEIGHTED, value=_money(result.weighted)),
                ForecastSnapshot(**common, method=M.COMMIT, value=result.adjusted_commit),
                ForecastSnapshot(**common, method=M.BEST_CASE, value=result.adjusted_best_case),
                ForecastSnapshot(
                    **common,
                    method=M.MONTE_CARLO,
                    value=_money(result.p50),
                    p10=_money(result.p10),
                    p90=_money(result.p90),
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
        everything = _open_frame(
            Deal.objects.all(), start=period.start, end=period.end, today=today
        )
        won = pd.DataFrame.from_records(
            won_deals(start=period.start, end=period.end)
            .values("owner_id", "owner__team_id", "currency")
            .annotate(total=Sum("amount"))
            .order_by(),
            columns=WON_COLUMNS,
        )
        rows += _snapshot_rows(
            everything=everything,
            probs=_probabilities(everything, now=now),
            won=won,
            period=period,
            scopes=scopes,
            week=week_of(today),
            taken_at=now,
            slip=slip,
            n_trials=n_trials,
        )
    return _store(rows)


def _history_frame() -> tuple[pd.DataFrame, pd.DataFrame, dict[int, dict[str, Any]]]:
    """Every deal with its current values, and its timeline's stage, amount, close-date and
    category changes (three queries: deals, events, stages)."""
    deals = pd.DataFrame.from_records(
        Deal.objects.values_list(
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
        ),
        columns=[
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
        ],
    )
    events = pd.DataFrame.from_records(
        DealEvent.objects.filter(
            Q(kind__in=[DealEvent.Kind.CREATED, DealEvent.Kind.STAGE, DealEvent.Kind.AMOUNT])
            | Q(kind=DealEvent.Kind.FIELD, data__field__in=["close_date", "forecast_category"])
        )
        .order_by()
        .values_list("deal_id", "kind", "occurred_at", "data"),
        columns=["pk", "kind", "occurred_at", "data"],
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
    moves = before[before["kind"].isin([DealEvent.Kind.CREATED, DealEvent.Kind.STAGE])]
    moves = moves.sort_values("occurred_at", kind="stable").drop_duplicates("pk", keep="last")
    stage_then = moves.set_index("pk")["data"].map(
        lambda d: d.get("stage") if "stage" in d else d.get("to_stage")
    )
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


def scope_from_key(key: str | None, *, user: Any) -> Scope:
    """``rep:<id>``, ``team:<id>`` or ``company``; empty: the viewer's own default. An unknown
    or malformed key is a clear error; one the viewer may not see, a refusal."""
    text = (key or "").strip()
    if not text:
        return default_scope(user)
    if text == "company":
        return Scope()
    kind, _, pk = text.partition(":")
    if kind not in ("rep", "team") or not pk.isdigit():
        raise ApplicationError(f"A scope is company, rep:<id> or team:<id>, got {text!r}.")
    if kind == "rep":
        rep = User.objects.filter(pk=int(pk)).select_related("team").first()
        if rep is None:
            raise ApplicationError(f"No such rep: {pk}.")
        scope = Scope(rep=rep)
    else:
        team = Team.objects.filter(pk=int(pk)).first()
        if team is None:
            raise ApplicationError(f"No such team: {pk}.")
        scope = Scope(team=team)
    scope_check(user, scope)
    return scope
