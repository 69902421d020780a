"""Small helpers the pipeline tests share."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

CRITERIA = ["Budget confirmed", "Decision maker known"]  # Discovery's exit criteria


def deal_age(deal, days):
    """Pretend the deal and its timeline happened ``days`` ago."""
    from leadpact.pipeline.models import Deal, DealEvent

    then = timezone.now() - dt.timedelta(days=days)
    DealEvent.objects.filter(deal=deal).update(occurred_at=then)
    Deal.objects.filter(pk=deal.pk).update(created_at=then)
