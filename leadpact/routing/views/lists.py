"""The rejection reasons and the qualification checklist."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.routing import selectors
from leadpact.routing.models import (
    QualificationItem,
    RejectionReason,
    RoutingChange,
)
from leadpact.routing.services.lists import (
    checklist_item_create,
    checklist_item_move,
    checklist_item_update,
    rejection_reason_create,
    rejection_reason_move,
    rejection_reason_update,
)
from leadpact.routing.views.access import list_end, managers_only


# --- rejection reasons and the qualification checklist ------------------------------------------
def _active(request: HttpRequest) -> bool:
    return request.POST.get("is_active", "on") == "on"


@managers_only
def reasons(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            made = rejection_reason_create(actor=request.user, label=request.POST.get("label", ""))
            messages.success(request, f"Reason “{made.label}” added at the end of the list.")
            return redirect("routing:reasons")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "routing/short_list.html",
        {
            "title": "Rejection reasons",
            "intro": "What a rep chooses from when turning a lead down; marketing sees the "
            "reason on the lead and in the reports. Deactivated reasons stay on past "
            "rejections.",
            "rows": selectors.rejection_reasons_all(),
            "changes": selectors.routing_changes(subjects=(RoutingChange.Subject.REASON,)),
            "edit_url": "routing:reason_edit",
            "add_url": "routing:reasons",
            "with_help": False,
        },
    )


@managers_only
@require_POST
@form_post("routing:reasons")
def reason_edit(request: HttpRequest, pk: int) -> str:
    reason = get_object_or_404(RejectionReason, pk=pk)
    action = request.POST.get("action", "save")
    if action in ("up", "down"):
        if rejection_reason_move(reason=reason, actor=request.user, up=action == "up"):
            return f"Reason “{reason.label}” moved {action}."
        return f"Reason “{reason.label}” is already at the {list_end(action)}."
    saved = rejection_reason_update(
        reason=reason,
        actor=request.user,
        label=request.POST.get("label", reason.label),
        is_active=_active(request),
    )
    return f"Reason “{saved.label}” saved."


@managers_only
def checklist(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            made = checklist_item_create(
                actor=request.user,
                label=request.POST.get("label", ""),
                help_text=request.POST.get("help_text", ""),
            )
            messages.success(request, f"“{made.label}” added to the checklist.")
            return redirect("routing:checklist")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "routing/short_list.html",
        {
            "title": "Qualification checklist",
            "intro": "A rep ticks every active line before an accepted lead becomes sales "
            "qualified (SQL); what they ticked is written on the lead's timeline.",
            "rows": selectors.qualification_items_all(),
            "changes": selectors.routing_changes(subjects=(RoutingChange.Subject.CHECKLIST,)),
            "edit_url": "routing:checklist_edit",
            "add_url": "routing:checklist",
            "with_help": True,
        },
    )


@managers_only
@require_POST
@form_post("routing:checklist")
def checklist_edit(request: HttpRequest, pk: int) -> str:
    item = get_object_or_404(QualificationItem, pk=pk)
    action = request.POST.get("action", "save")
    if action in ("up", "down"):
        if checklist_item_move(item=item, actor=request.user, up=action == "up"):
            return f"“{item.label}” moved {action}."
        return f"“{item.label}” is already at the {list_end(action)}."
    saved = checklist_item_update(
        item=item,
        actor=request.user,
        label=request.POST.get("label", item.label),
        help_text=request.POST.get("help_text", item.help_text),
        is_active=_active(request),
    )
    return f"“{saved.label}” saved."
