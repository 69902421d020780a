"""Background jobs of the hand-off. The same task code runs under Celery beat (a broker is
configured) and in-process (``leadpact sla_sweep --loop``, or ``enqueue`` without a broker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from leadpact.routing.services.router import leads_route
from leadpact.routing.services.sweep import sla_sweep

ROUTE_CHUNK = 5000  # lead ids per claim


@shared_task(name="leadpact.routing.sla_sweep")
def sla_sweep_task() -> dict[str, Any]:
    """Every minute: SLA warnings, breaches, escalations; then route MQLs that wait.

    Safe to run twice or on two workers at once (the services claim their rows).
    """
    result = sla_sweep().as_dict()
    routed = leads_route(include_fallback=False)
    return result | {"routed": len(routed.offered), "to_fallback": len(routed.fallback)}


@shared_task(name="leadpact.routing.route_leads")
def route_leads_task(lead_ids: list[int]) -> dict[str, int]:
    """Route these MQLs now (whoever marks leads MQL enqueues this with their ids) and, in the
    same pass, every other MQL still waiting outside the fallback queue: a burst of captures
    queues one job per lead, and the first job to run routes the whole backlog with one claim
    (the router claims rows with SKIP LOCKED, so the later jobs find nothing left to do and
    two workers never offer a lead twice). A long list is routed ``ROUTE_CHUNK`` ids at a
    time, the backlog with the last chunk."""
    result: dict[str, int] = {"offered": 0, "fallback": 0}
    starts = range(0, len(lead_ids), ROUTE_CHUNK) or [0]
    for start in starts:
        last = start == starts[-1]
        part = leads_route(lead_ids=lead_ids[start : start + ROUTE_CHUNK], and_waiting=last)
        result = {key: result[key] + value for key, value in part.as_dict().items()}
    return result
