"""Background scoring jobs: the periodic rescore (engagement decays with time) and rescoring
given leads. Same code under Celery beat and in-process; safe to run twice (a rescore that
finds nothing changed writes nothing)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from leadpact.scoring.selectors import profile_live
from leadpact.scoring.services.rescoring import lead_score_refresh, leads_rescore_all


@shared_task(name="leadpact.scoring.rescore")
def rescore_open_leads_task() -> dict[str, Any]:
    """Every hour: decay engagement and rescore every open lead with the live profile."""
    profile = profile_live()
    if profile is None:
        return {"scored": 0, "changed": 0, "mql": 0}
    result = leads_rescore_all(profile=profile, reason="periodic rescore")
    return {"scored": result.scored, "changed": result.changed, "mql": len(result.became_mql)}


@shared_task(name="leadpact.scoring.refresh")
def score_refresh_task(lead_ids: list[int]) -> dict[str, Any]:
    result = lead_score_refresh(lead_ids, reason="refreshed")
    return {"scored": result.scored, "changed": result.changed, "mql": len(result.became_mql)}
