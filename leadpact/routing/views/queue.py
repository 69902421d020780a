"""The rep's queue: accept, reject with a reason, qualify; pausing and resuming an SLA clock."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadpact.common.form_posts import form_post
from leadpact.common.numbers import is_whole_number
from leadpact.leads.models import Lead
from leadpact.leads.services.lifecycle import lead_accept, lead_reject
from leadpact.routing import selectors
from leadpact.routing.models import (
    SlaClock,
)
from leadpact.routing.roles import can_have_queue
from leadpact.routing.services.pauses import clock_pause, clock_resume
from leadpact.routing.services.qualification import lead_qualify_checked
from leadpact.routing.views.access import sales_only


# --- the rep's queue ---------------------------------------------------------------------------
@sales_only
def queue(request: HttpRequest) -> HttpResponse:
    offers = selectors.rep_queue(rep=request.user)
    accepted = selectors.accepted_to_qualify(rep=request.user)
    selectors.open_clocks_attach(offers + accepted)
    return render(
        request,
        "routing/queue.html",
        {
            "offers": offers,
            "accepted": accepted,
            "reasons": selectors.rejection_reasons(),
            "checklist": selectors.qualification_items(),
            "now": timezone.now(),
        },
    )


@sales_only
@require_POST
@form_post("routing:queue")
def accept(request: HttpRequest, lead_id: int) -> str:
    lead = get_object_or_404(Lead, pk=lead_id)
    lead_accept(lead=lead, actor=request.user)
    return f"Accepted {lead}. Qualify it when you have spoken to them."


@sales_only
@require_POST
@form_post("routing:queue")
def reject(request: HttpRequest, lead_id: int) -> str:
    lead = get_object_or_404(Lead, pk=lead_id)
    lead_reject(
        lead=lead,
        actor=request.user,
        reason=request.POST.get("reason", ""),
        note=request.POST.get("note", "").strip()[:2000],
    )
    return f"Rejected {lead}; it goes back to marketing with your reason."


@sales_only
@require_POST
@form_post("routing:queue")
def qualify(request: HttpRequest, lead_id: int) -> str:
    lead = get_object_or_404(Lead, pk=lead_id)
    lead_qualify_checked(
        lead=lead,
        actor=request.user,
        checked=[v for v in request.POST.getlist("item") if is_whole_number(v)],
        note=request.POST.get("note", "")[:2000],
    )
    return f"{lead} is now sales qualified (SQL)."


# --- pausing an SLA clock -----------------------------------------------------------------------
def _after_clock(request: HttpRequest, pk: int) -> str:
    """Back to the queue (salespeople), else to the clock's lead, else to the policies."""
    if can_have_queue(request.user):
        return reverse("routing:queue")
    lead_id = SlaClock.objects.filter(pk=pk).values_list("lead_id", flat=True).first()
    if lead_id is not None:
        return reverse("leads:detail", args=[lead_id])
    return reverse("routing:policies")


@login_required
@require_POST
@form_post(_after_clock)
def clock_pause_view(request: HttpRequest, pk: int) -> str:
    """The clock's rep, their manager or an admin; the service checks who (403 otherwise)."""
    clock = get_object_or_404(SlaClock, pk=pk)
    clock_pause(clock=clock, actor=request.user, reason=request.POST.get("reason", ""))
    return "Clock paused: its business time left is kept until resumed."


@login_required
@require_POST
@form_post(_after_clock)
def clock_resume_view(request: HttpRequest, pk: int) -> str:
    clock = get_object_or_404(SlaClock, pk=pk)
    resumed = clock_resume(clock=clock, actor=request.user)
    return f"Clock resumed: due {resumed.deadline_at:%Y-%m-%d %H:%M} UTC."
