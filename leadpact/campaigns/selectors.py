"""Reads of campaigns and their touches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Lower

from leadpact.campaigns.models import Campaign, Touch
from leadpact.leads.models import Lead


def _count_of(queryset: QuerySet[Any], column: str) -> Coalesce:
    """A correlated ``COUNT(*)`` subquery: one query for the whole list, not one per row."""
    counted = (
        queryset.filter(**{column: OuterRef("pk")})
        .order_by()
        .values(column)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def campaign_queryset() -> QuerySet[Campaign]:
    """Campaigns with ``sourced_leads_count`` (live leads first reached by it) and
    ``touches_count``."""
    return Campaign.objects.select_related("owner").annotate(
        sourced_leads_count=_count_of(
            Lead.objects.filter(merged_into__isnull=True), "source_campaign"
        ),
        touches_count=_count_of(Touch.objects.all(), "campaign"),
    )


def campaign_list(*, q: str = "", active_only: bool = False) -> QuerySet[Campaign]:
    qs = campaign_queryset()
    q = q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q.lower()))
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("name", "id")


def campaign_get(*, campaign_id: int) -> Campaign:
    """One campaign with its counts; raises ``Campaign.DoesNotExist``."""
    return campaign_queryset().get(pk=campaign_id)


def campaign_recent_touches(*, campaign: Campaign, limit: int = 25) -> list[Touch]:
    return list(
        Touch.objects.filter(campaign_id=campaign.pk)
        .select_related("lead")
        .order_by("-occurred_at", "-id")[:limit]
    )


def campaigns_by_code(codes: Iterable[str]) -> dict[str, Campaign]:
    """Map each code (lower-cased) to its campaign, matching ``code`` or ``utm_campaign``.

    A match on ``code`` wins over a match on another campaign's ``utm_campaign``. Unknown codes
    are left out: an incoming code never creates a campaign.
    """
    wanted = {c.strip().lower() for c in codes if c and c.strip()}
    if not wanted:
        return {}
    rows = list(
        Campaign.objects.annotate(utm_key=Lower("utm_campaign"))
        .filter(Q(code__in=wanted) | Q(utm_key__in=wanted))
        .order_by("pk")
    )
    found: dict[str, Campaign] = {}
    for campaign in rows:
        utm = campaign.utm_campaign.strip().lower()
        if utm in wanted:
            found.setdefault(utm, campaign)
    for campaign in rows:
        if campaign.code in wanted:
            found[campaign.code] = campaign
    return found


def campaign_choices() -> list[tuple[int, str]]:
    """(id, label) pairs for a campaign picker."""
    return [
        (pk, f"{name} ({code})")
        for pk, name, code in Campaign.objects.order_by("name").values_list("pk", "name", "code")
    ]
