"""The rep's queue: accept, reject with a reason, qualify; pausing and resuming an SLA clock."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadpact.common.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.leads.services.lifecycle import lead_accept, lead_reject
from leadpact.routing import selectors
from leadpact.routing.models import (
    SlaClock,
)
from leadpact.routing.roles import can_have_queue
from leadpact.routing.services.pauses import clock_pause, clock_resume
from leadpact.routing.services.qualification import lead_qualify_checked
from leadpact.routing.views.access import back, sales_only


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
def accept(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(Lead, pk=lead_id)
    try:
        lead_accept(lead=lead, actor=request.user)
        messages.success(request, f"Accepted {lead}. Qualify it when you have spoken to them.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return back(request, "routing:queue")


@sales_only
@require_POST
def reject(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(Lead, pk=lead_id)
    try:
        lead_reject(
            lead=lead,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", "").strip()[:2000],
        )
        messages.success(request, f"Rejected {lead}; it goes back to marketing with your reason.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return back(request, "routing:queue")


@sales_only
@require_POST
def qualify(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(Lead, pk=lead_id)
    try:
        lead_qualify_checked(
            lead=lead,
            actor=request.user,
            checked=[v for v in request.POST.getlist("item") if v.isdigit()],
            note=request.POST.get("note", "")[:2000],
        )
        messages.success(request, f"{lead} is now sales qualified (SQL).")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return back(request, "routing:queue")


# --- pausing an SLA clock -----------------------------------------------------------------------
def _after_clock(request: HttpRequest, clock: SlaClock) -> HttpResponse:
    if can_have_queue(request.user):
        return redirect("routing:queue")
    if clock.lead_id is not None:
        return redirect("leads:detail", lead_id=clock.lead_id)
    return redirect("routing:policies")


@login_required
@require_POST
def clock_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The clock's rep, their manager or an admin; the service checks who (403 otherwise)."""
    clock = get_object_or_404(SlaClock, pk=pk)
    try:
        clock_pause(clock=clock, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "Clock paused: its business time left is kept until resumed.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _after_clock(request, clock)


@login_required
@require_POST
def clock_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    clock = get_object_or_404(SlaClock, pk=pk)
    try:
        resumed = clock_resume(clock=clock, actor=request.user)
        messages.success(request, f"Clock resumed: due {resumed.deadline_at:%Y-%m-%d %H:%M} UTC.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _after_clock(request, clock)
