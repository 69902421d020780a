"""Background scoring jobs: rescore runs (going live, the hourly decay), scheduled versions
going live, and rescoring given leads. Same code under Celery beat and in-process; each is
safe to run twice (a run's chunks are claimed one at a time; a scheduled version is claimed
from ``scheduled`` once; a rescore that finds nothing changed writes nothing)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from leadpact.common.jobs import enqueue
from leadpact.scoring.services.profiles import profiles_go_live_due
from leadpact.scoring.services.rescoring import (
    lead_score_refresh,
    rescore_run_execute,
    rescore_run_periodic,
    rescore_runs_stale,
)


@shared_task(name="leadpact.scoring.rescore_run")
def rescore_run_task(run_id: int) -> dict[str, Any]:
    """Rescore every open lead, chunk by chunk, until the run is done or superseded."""
    run, result = rescore_run_execute(run_id=run_id)
    return {
        "run": run.pk,
        "status": run.status,
        "scored": result.scored,
        "changed": result.changed,
        "mql": len(result.became_mql),
    }


@shared_task(name="leadpact.scoring.rescore")
def rescore_open_leads_task() -> dict[str, Any]:
    """Every hour: decay engagement and rescore every open lead with the live profile (or let
    a run still going finish)."""
    run = rescore_run_periodic()
    return {"run": run.pk if run is not None else None}


@shared_task(name="leadpact.scoring.go_live_due")
def profiles_go_live_due_task() -> dict[str, Any]:
    """Every minute: put scheduled versions live when their time comes, resume rescore runs
    whose worker was lost, and close fits whose worker was lost."""
    from leadpact.scoring.services.fit_runs import fit_runs_stale

    went = profiles_go_live_due()
    stale = rescore_runs_stale()
    for run_id in stale:
        enqueue(rescore_run_task, run_id)
    return {"went_live": went, "resumed": stale, "fits_closed": fit_runs_stale()}


@shared_task(name="leadpact.scoring.refresh")
def score_refresh_task(lead_ids: list[int]) -> dict[str, Any]:
    result = lead_score_refresh(lead_ids, reason="refreshed")
    return {"scored": result.scored, "changed": result.changed, "mql": len(result.became_mql)}


@shared_task(name="leadpact.scoring.fit_run")
def fit_run_task(run_id: int) -> dict[str, Any]:
    """Fit a draft version in the background (claimed once; a second run does nothing)."""
    from leadpact.scoring.services.fit_runs import fit_run_execute

    run = fit_run_execute(run_id)
    return {"run": run.pk, "status": run.status, "profile": run.profile_id}
