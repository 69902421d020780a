"""Reads of the pipeline: the board, a deal with its timeline, the history the learners use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from leadpact.pipeline.models import Activity, Deal, DealEvent, Pipeline, Stage
from leadpact.pipeline.policies import visible_deals

BOARD_CARDS = 50  # per column; the column header carries the full count and total


def pipeline_default() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()


def pipeline_stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position", "id"))


@dataclass
class BoardColumn:
    stage: Stage
    deals: list[Deal]
    count: int
    total: Decimal


def board(*, user: Any, pipeline: Pipeline, per_column: int = BOARD_CARDS) -> list[BoardColumn]:
    """Open stages (and the won stage, for dropping deals on) with the soonest-closing deals.

    Queries: the stages, the per-stage totals, and one bounded query per non-empty stage,
    whatever the number of deals.
    """
    stages = [s for s in pipeline_stages(pipeline) if s.kind != Stage.Kind.LOST]
    deals = visible_deals(user).filter(pipeline=pipeline, status=Deal.Status.OPEN)
    totals = {
        row["stage_id"]: row
        for row in deals.values("stage_id").annotate(n=Count("id"), total=Sum("amount"))
    }
    # One LIMIT query per stage walks the (status, stage, close_date, id) index and stops at
    # ``per_column`` rows; a single ROW_NUMBER() query sorted every visible deal (1 s at 100k
    # open deals on SQLite). The count is bounded by the pipeline's stages, not by the deals.
    cards: dict[int, list[Deal]] = {}
    for s in stages:
        if totals.get(s.pk, {}).get("n"):
            cards[s.pk] = list(
                deals.filter(stage=s)
                .select_related("owner", "company", "stage")
                .order_by("close_date", "id")[:per_column]
            )
    return [
        BoardColumn(
            stage=s,
            deals=cards.get(s.pk, []),
            count=totals.get(s.pk, {}).get("n", 0),
            total=totals.get(s.pk, {}).get("total") or Decimal("0"),
        )
        for s in stages
    ]


def deal_get(*, deal_id: int) -> Deal:
    return Deal.objects.select_related(
        "owner", "company", "stage", "pipeline", "lead", "lost_reason"
    ).get(pk=deal_id)


def deal_events(*, deal: Deal, limit: int = 200) -> list[DealEvent]:
    return list(deal.events.select_related("actor").order_by("-occurred_at", "-id")[:limit])


def deal_activities(*, deal: Deal, limit: int = 50) -> list[Activity]:
    return list(deal.activities.select_related("actor").order_by("-occurred_at", "-id")[:limit])


def stage_history(*, pipeline: Pipeline) -> tuple[list[int], list[set[int]], list[bool]]:
    """For each closed deal of ``pipeline``: the stages it reached and whether it was won.

    Read from the deals' timelines in one query (the stage each entry entered)."""
    rows = DealEvent.objects.filter(
        deal__pipeline=pipeline,
        deal__status__in=[Deal.Status.WON, Deal.Status.LOST],
        stage__isnull=False,
    ).values_list("deal_id", "stage_id", "deal__status")
    reached: dict[int, set[int]] = {}
    won: dict[int, bool] = {}
    for deal_id, stage, status in rows:
        reached.setdefault(deal_id, set()).add(int(stage))
        won[deal_id] = status == Deal.Status.WON
    ids = sorted(reached)
    return ids, [reached[i] for i in ids], [won[i] for i in ids]


def forecast_deals(*, user: Any, period_end: date, currency: str | None = None) -> QuerySet[Deal]:
    """Open deals the user may see that are expected to close by ``period_end``."""
    qs = visible_deals(user).filter(status=Deal.Status.OPEN, close_date__lte=period_end)
    if currency:
        qs = qs.filter(currency=currency)
    return qs.exclude(forecast_category="omitted")


def won_in_period(*, user: Any, start: date, end: date, currency: str | None) -> Decimal:
    qs = visible_deals(user).filter(
        status=Deal.Status.WON, closed_at__date__gte=start, closed_at__date__lte=end
    )
    if currency:
        qs = qs.filter(currency=currency)
    return qs.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def currencies_in_use(*, user: Any) -> list[str]:
    return list(
        visible_deals(user)
        .filter(status=Deal.Status.OPEN)
        .values("currency")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("currency", flat=True)
    )


def closed_stage_spells(*, pipeline: Pipeline) -> list[dict[str, Any]]:
    """One row per (closed deal, open stage it sat in): the stage, days spent there, amount,
    source channel, lead score and whether the deal was won. Two queries.

    These are the snapshots the win-probability model learns from: "a deal like this, in this
    stage for this long, was later won or lost"."""
    deals = {
        d["pk"]: d
        for d in Deal.objects.filter(
            pipeline=pipeline, status__in=[Deal.Status.WON, Deal.Status.LOST]
        ).values("pk", "amount", "source_channel", "lead_score", "status", "closed_at")
    }
    names = {s.pk: (s.name, s.kind) for s in pipeline.stages.all()}
    events = (
        DealEvent.objects.filter(deal_id__in=list(deals), stage__isnull=False)
        .order_by("deal_id", "occurred_at", "id")
        .values_list("deal_id", "stage_id", "occurred_at")
    )
    by_deal: dict[int, list[tuple[int, Any]]] = {}
    for deal_id, stage, at in events:
        by_deal.setdefault(deal_id, []).append((int(stage), at))
    rows = []
    for deal_id, spells in by_deal.items():
        deal = deals[deal_id]
        ends = [at for _, at in spells[1:]] + [deal["closed_at"]]
        for (stage, at), end in zip(spells, ends, strict=True):
            name, kind = names.get(stage, ("?", "closed"))
            if kind != Stage.Kind.OPEN or end is None:
                continue
            rows.append(
                {
                    "deal": deal_id,
                    "stage": name,
                    "age_in_stage_days": max(0.0, (end - at).total_seconds() / 86400),
                    "amount": float(deal["amount"]),
                    "source_channel": deal["source_channel"] or "direct",
                    "lead_score": deal["lead_score"],
                    "won": deal["status"] == Deal.Status.WON,
                }
            )
    return rows
