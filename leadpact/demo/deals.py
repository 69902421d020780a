"""The demo's sales pipeline and a year of deals through it.

The pipeline, its stages (with exit criteria) and the lost reasons are set up through the
pipeline app's services. The deals are history: every lead of the demo that became an
opportunity has one, created on the day it converted and moved stage by stage until it was
won or lost on the day its journey says (or still open today). The app's services stamp
everything "now" and refuse past dates, so this history (deals, their stage events and
activities) is written in bulk, shaped exactly as ``deal_create``, ``deal_move`` and
``activity_log`` write it, so the board, forecast, learned stage rates and review read it.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from leadpact.accounts.models import User
from leadpact.demo.journeys import LOST_REASONS
from leadpact.demo.prospects import Prospect
from leadpact.demo.quotas import demo_quotas
from leadpact.leads.models import Lead, LeadState
from leadpact.pipeline.models import (
    Activity,
    Deal,
    DealEvent,
    ForecastAdjustment,
    ForecastCategory,
    ForecastSnapshot,
    LostReason,
    Pipeline,
    Quota,
    Stage,
)
from leadpact.pipeline.services.forecast.snapshots import forecast_snapshots_replay
from leadpact.pipeline.services.pipelines import StageInput, lost_reason_create, pipeline_create

BATCH = 1000
CURRENCY = "EUR"
BRL_PER_EUR = 5.5
TAKE_RATE = 0.10  # the marketplace's commission: a deal is worth a year of it
OPEN_STAGES = 4
REPLAY_WEEKS = 26
SLIPPED_WON_SHARE = 0.25  # of won deals, won after the close date the rep had expected

STAGES = (
    StageInput(
        "Discovery",
        10,
        exit_criteria=("Pain and current channels understood", "Decision maker identified"),
    ),
    StageInput("Demo", 30, exit_criteria=("Seller centre demo given", "Catalogue size confirmed")),
    StageInput(
        "Proposal",
        60,
        exit_criteria=("Commission and fees proposal sent", "Onboarding date pencilled in"),
    ),
    StageInput("Negotiation", 80, exit_criteria=("Terms agreed", "Contract sent for signature")),
    StageInput("Won", 100, Stage.Kind.WON),
    StageInput("Lost", 0, Stage.Kind.LOST),
)
# The rep's call per open stage: Negotiation is commit, Proposal best case.
CATEGORIES = (
    ForecastCategory.PIPELINE,
    ForecastCategory.PIPELINE,
    ForecastCategory.BEST_CASE,
    ForecastCategory.COMMIT,
)
# Where a lost deal died: mostly early.
LOST_AT_WEIGHTS = (0.35, 0.3, 0.2, 0.15)
# Where an open deal sits today, by how long ago it was opened (fewer late-stage deals).
# Open deals take their stage from this cycle (4:3:2:1 from the first open stage to the
# last), so that even a small demo has deals in every stage of the board.
OPEN_AT_CYCLE = (0, 1, 2, 3, 0, 1, 2, 0, 1, 0)
ACTIVITIES = (
    (Activity.Kind.CALL, "Discovery call: runs 3 channels, wants lower fees", "Send the deck"),
    (Activity.Kind.MEETING, "Demo of the seller centre with the owner", "Share catalogue template"),
    (Activity.Kind.EMAIL, "Sent the commission proposal", "Follow up on the proposal"),
    (Activity.Kind.CALL, "Negotiated the first-quarter discount", "Chase the signed contract"),
)


@dataclass
class DealSummary:
    deals: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    events: int = 0
    activities: int = 0
    overdue_steps: int = 0
    open_planned: int = 0
    quotas: int = 0
    snapshots: int = 0  # weekly forecast snapshots replayed from the history
    slipped: int = 0  # won deals won after their expected close date


class Revenue:
    """Draws a seller's declared monthly revenue from Olist's percentiles (piecewise linear)."""

    def __init__(self, percentiles: tuple[float, ...]) -> None:
        p10, p25, p50, p75, p90 = percentiles
        self._qs = [0.0, 0.10, 0.25, 0.50, 0.75, 0.90, 1.0]
        self._xs = [1500.0, p10, p25, p50, p75, p90, p90 * 2]

    def draw(self, rng: random.Random) -> float:
        u = rng.random()
        i = max(1, bisect.bisect_left(self._qs, u))
        q0, q1, x0, x1 = self._qs[i - 1], self._qs[i], self._xs[i - 1], self._xs[i]
        return x0 + (x1 - x0) * (u - q0) / (q1 - q0)


def deal_amount(monthly_revenue_brl: float) -> Decimal:
    """A year of commission on the seller's declared revenue, in euros, to the nearest 100."""
    value = monthly_revenue_brl * 12 * TAKE_RATE / BRL_PER_EUR
    return Decimal(max(500, round(value, -2)))


def demo_pipeline() -> Pipeline:
    pipeline = pipeline_create(name="Seller acquisition", stages=STAGES, is_default=True)
    for label in LOST_REASONS:
        lost_reason_create(label=label)
    return pipeline


class DealHistory:
    def __init__(
        self,
        *,
        rng: random.Random,
        pipeline: Pipeline,
        users: dict[str, User],
        now: datetime,
        revenue: Revenue,
    ) -> None:
        self.rng = rng
        self.now = now
        self.today = now.date()
        self.users = users
        self.revenue = revenue
        stages = list(pipeline.stages.order_by("position"))
        self.pipeline = pipeline
        self.open = [s for s in stages if s.kind == Stage.Kind.OPEN]
        self.won = next(s for s in stages if s.kind == Stage.Kind.WON)
        self.lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
        self.reasons = {r.label: r for r in LostReason.objects.all()}
        self.summary = DealSummary()
        # Its own stream, derived from the deals' seed without drawing from it, so the deals
        # stay the same: which won deals were won after the date the rep expected.
        self.seed_text = repr(rng.getstate()[1][:4])
        self.slip_rng = random.Random(f"{self.seed_text}:slip")

    def build(self, prospects: list[Prospect], lead_ids: list[int]) -> DealSummary:
        plans = []
        for prospect, lead_id in zip(prospects, lead_ids, strict=True):
            plan = self._plan(prospect, lead_id)
            if plan is not None:
                plans.append(plan)
        companies = dict(
            Lead.objects.filter(pk__in=[p["lead_id"] for p in plans]).values_list(
                "pk", "company_id"
            )
        )
        deals = Deal.objects.bulk_create(
            [self._deal(plan, companies.get(plan["lead_id"])) for plan in plans],
            batch_size=BATCH,
        )
        events, activities = [], []
        for deal, plan in zip(deals, plans, strict=True):
            events += [DealEvent(deal=deal, **e) for e in plan["events"]]
            activities += [Activity(deal=deal, lead_id=deal.lead_id, **a) for a in plan["acts"]]
        DealEvent.objects.bulk_create(events, batch_size=BATCH)
        Activity.objects.bulk_create(activities, batch_size=BATCH)
        self.summary.deals = len(deals)
        self.summary.events = len(events)
        self.summary.activities = len(activities)
        for deal in deals:
            self.summary.by_status[deal.status] = self.summary.by_status.get(deal.status, 0) + 1
        self.summary.quotas = demo_quotas(now=self.now, seed=f"{self.seed_text}:quotas")
        # Half a year of weekly forecasts replayed from the deals' timelines, scored against
        # what was won: the forecast page's accuracy history.
        self.summary.snapshots = forecast_snapshots_replay(
            since=self.today - timedelta(weeks=REPLAY_WEEKS), until=self.today
        )
        return self.summary

    # --- one deal --------------------------------------------------------------------------
    def _plan(self, prospect: Prospect, lead_id: int) -> dict[str, Any] | None:
        steps = prospect.journey.steps
        opened = [i for i, s in enumerate(steps) if s.to == LeadState.OPPORTUNITY]
        if not opened:
            return None
        start = steps[opened[-1]]
        after = steps[opened[-1] + 1] if opened[-1] + 1 < len(steps) else None
        closing = after if after and after.to in (LeadState.WON, LeadState.LOST) else None
        owner = self.users[closing.actor if closing else (start.owner or prospect.journey.owner)]
        rng = self.rng
        created = self._at(prospect, start.day)
        amount = deal_amount(self.revenue.draw(rng))
        if closing is None:
            status = Deal.Status.OPEN
            reached = OPEN_AT_CYCLE[self.summary.open_planned % len(OPEN_AT_CYCLE)]
            self.summary.open_planned += 1
            end = self.now - timedelta(hours=rng.uniform(2, 24 * 10))
            end = max(end, created + timedelta(hours=1))
        elif closing.to == LeadState.WON:
            status, reached, end = Deal.Status.WON, OPEN_STAGES - 1, self._at(prospect, closing.day)
        else:
            status = Deal.Status.LOST
            reached = rng.choices(range(OPEN_STAGES), LOST_AT_WEIGHTS)[0]
            end = self._at(prospect, closing.day)
        path = self.open[: reached + 1]
        span = (end - created) / len(path)  # the last stage is left (or still held) at ``end``
        moments = [created + span * n for n in range(len(path))]
        actor = owner
        events: list[dict[str, Any]] = [
            {
                "kind": DealEvent.Kind.CREATED,
                "summary": f"Deal created in {path[0].name}: {amount} {CURRENCY}",
                "actor": actor,
                "data": {"stage": path[0].pk, "amount": str(amount), "currency": CURRENCY},
                "occurred_at": created,
                "stage": path[0],
            }
        ]
        for leaving, entering, at in zip(path, path[1:], moments[1:], strict=False):
            events.append(self._move(leaving, entering, at, actor))
        deal: dict[str, Any] = {
            "lead_id": lead_id,
            "prospect": prospect,
            "owner": owner,
            "amount": amount,
            "status": status,
            "created": created,
            "stage": path[-1],
            "stage_entered_at": moments[-1],
        }
        if status == Deal.Status.WON:
            events.append(self._move(path[-1], self.won, end, actor))
            expected = end.date()
            if self.slip_rng.random() < SLIPPED_WON_SHARE:  # won later than the rep expected
                expected = max(
                    created.date(), expected - timedelta(days=self.slip_rng.randint(5, 40))
                )
                self.summary.slipped += expected < end.date()
            deal.update(stage=self.won, stage_entered_at=end, closed_at=end, close_date=expected)
        elif status == Deal.Status.LOST:
            reason = closing.reason if closing.reason in self.reasons else LOST_REASONS[0]
            event = self._move(path[-1], self.lost, end, actor, reason=reason)
            events.append(event)
            deal.update(
                stage=self.lost,
                stage_entered_at=end,
                closed_at=end,
                close_date=end.date(),
                lost_reason=self.reasons[reason],
            )
        else:
            # Most open deals are expected to close in the coming weeks; a few are past their
            # expected close date (the review page's overdue list).
            days = rng.choice((-12, -5)) if rng.random() < 0.12 else int(rng.uniform(5, 120))
            deal["close_date"] = self.today + timedelta(days=days)
        deal["events"] = events
        deal["acts"] = self._activities(deal, path, moments, end)
        return deal

    def _move(
        self, leaving: Stage, entering: Stage, at: datetime, actor: User, reason: str = ""
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "from_stage": leaving.pk,
            "to_stage": entering.pk,
            "from_name": leaving.name,
            "to_name": entering.name,
        }
        summary = f"{leaving.name} → {entering.name}"
        if reason:
            data["lost_reason"] = reason
            summary += f" ({reason})"
        elif leaving.exit_criteria:
            data["confirmed"] = list(leaving.exit_criteria)
        return {
            "kind": DealEvent.Kind.STAGE,
            "summary": summary,
            "actor": actor,
            "data": data,
            "occurred_at": at,
            "stage": entering,
            "from_stage": leaving,
        }

    def _activities(
        self, deal: dict[str, Any], path: list[Stage], moments: list[datetime], end: datetime
    ) -> list[dict[str, Any]]:
        """A logged call, demo or e-mail per stage; open deals carry a next step, some overdue."""
        acts = []
        for n, at in enumerate(moments):
            kind, outcome, _ = ACTIVITIES[n]
            acts.append(
                {
                    "kind": kind,
                    "outcome": outcome,
                    "actor": deal["owner"],
                    "occurred_at": min(end, at + timedelta(hours=self.rng.uniform(2, 48))),
                }
            )
        if deal["status"] == Deal.Status.OPEN:
            last = acts[-1]
            overdue = self.rng.random() < 0.25
            due = self.today + timedelta(
                days=-self.rng.randint(1, 6) if overdue else self.rng.randint(1, 14)
            )
            last.update(next_step=ACTIVITIES[len(path) - 1][2], next_step_due=due)
            self.summary.overdue_steps += overdue
        return acts

    def _deal(self, plan: dict[str, Any], company_id: int | None) -> Deal:
        prospect: Prospect = plan["prospect"]
        acts = plan["acts"]
        return Deal(
            name=f"{prospect.raw['company_name']}: seller onboarding",
            pipeline=self.pipeline,
            stage=plan["stage"],
            lead_id=plan["lead_id"],
            company_id=company_id,
            account_name=prospect.raw["company_name"],
            amount=plan["amount"],
            currency=CURRENCY,
            close_date=plan["close_date"],
            owner=plan["owner"],
            forecast_category=self._category(plan),
            status=plan["status"],
            source_channel=prospect.channel,
            lead_score=prospect.journey.score,
            stage_entered_at=plan["stage_entered_at"],
            closed_at=plan.get("closed_at"),
            lost_reason=plan.get("lost_reason"),
            last_activity_at=max(a["occurred_at"] for a in acts) if acts else None,
            version=len(plan["events"]),
        )

    def _category(self, plan: dict[str, Any]) -> str:
        if plan["status"] != Deal.Status.OPEN:
            return ForecastCategory.CLOSED
        return CATEGORIES[self.open.index(plan["stage"])]

    def _at(self, prospect: Prospect, day: float) -> datetime:
        return min(self.now, prospect.captured_at + timedelta(days=day))


def demo_pipeline_reset() -> None:
    ForecastSnapshot.objects.all().delete()
    ForecastAdjustment.objects.all().delete()
    Quota.objects.all().delete()
    Activity.objects.all().delete()
    DealEvent.objects.all().delete()
    Deal.objects.all().delete()
    for model in (Stage, Pipeline, LostReason):
        model.objects.all().delete()
