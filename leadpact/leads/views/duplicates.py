"""The duplicates page: likely duplicate pairs side by side, merge or dismiss, undo a merge.

Open to admins, marketing and sales managers (sales reps get 403). Which pair a viewer may
merge comes from ``policies.can_act(..., LeadAction.MERGE)`` on both leads, so the page never
offers what ``lead_merge`` would refuse. The buttons post with HTMX and get back the fragment
that replaces the pair or merge; without JavaScript they post normally and redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from leadpact.accounts.models import Role
from leadpact.accounts.roles import has_role
from leadpact.common.errors import ApplicationError
from leadpact.leads.duplicate_selectors import (
    duplicate_get,
    duplicate_open_list,
    duplicate_recent_merges,
)
from leadpact.leads.models import DuplicateCandidate, Lead
from leadpact.leads.policies import LeadAction, can_act
from leadpact.leads.services.dedupe import (
    duplicate_dismiss,
    duplicates_full_scan_enqueue,
    lead_merge,
    lead_unmerge,
)

OPEN_LIMIT = 50
MERGES_LIMIT = 20


def can_review_duplicates(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER)


def can_start_scan(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.MARKETING)


def _ensure_reviewer(request: HttpRequest) -> None:
    if not can_review_duplicates(request.user):
        raise PermissionDenied("Duplicates are reviewed by marketing, sales managers and admins.")
    if request.user.role == Role.SALES_MANAGER:
        prefetch_related_objects([request.user], "managed_teams")  # can_act without a query


@dataclass
class PairView:
    candidate: DuplicateCandidate
    leads: tuple[Lead, Lead]
    can_decide: bool
    error: str = ""
    done: str = ""


@dataclass
class MergeView:
    candidate: DuplicateCandidate
    primary: Lead | None
    duplicate: Lead | None
    can_undo: bool
    error: str = ""
    done: str = ""


def _may_merge(user: Any, *leads: Lead) -> bool:
    return all(can_act(user, lead, LeadAction.MERGE) for lead in leads)


def _pair_view(user: Any, candidate: DuplicateCandidate) -> PairView:
    leads = (candidate.lead_a, candidate.lead_b)
    return PairView(candidate, leads, can_decide=_may_merge(user, *leads))


def _merge_view(user: Any, candidate: DuplicateCandidate) -> MergeView:
    a, b = candidate.lead_a, candidate.lead_b
    if a.merged_into_id == b.pk:
        primary, duplicate = b, a
    elif b.merged_into_id == a.pk:
        primary, duplicate = a, b
    else:  # merged further on, or the merge was undone from the lead page
        primary = duplicate = None
    can_undo = duplicate is not None and _may_merge(user, a, b)
    return MergeView(candidate, primary, duplicate, can_undo=can_undo)


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    _ensure_reviewer(request)
    pairs, total = duplicate_open_list(limit=OPEN_LIMIT)
    merges = duplicate_recent_merges(limit=MERGES_LIMIT)
    return render(
        request,
        "leads/duplicates/list.html",
        {
            "pairs": [_pair_view(request.user, c) for c in pairs],
            "total": total,
            "merges": [_merge_view(request.user, c) for c in merges],
            "can_scan": can_start_scan(request.user),
        },
    )


def _candidate(candidate_id: int) -> DuplicateCandidate:
    try:
        return duplicate_get(candidate_id=candidate_id)
    except DuplicateCandidate.DoesNotExist:
        raise Http404("No such duplicate pair.") from None


def _answer(
    request: HttpRequest, template: str, item: PairView | MergeView, *, ok: bool
) -> HttpResponse:
    """The fragment for HTMX; otherwise the message and back to the page."""
    if request.htmx:
        return render(request, template, {"item": item})
    if ok:
        messages.success(request, item.done)
    else:
        messages.error(request, item.error)
    return redirect("duplicates:list")


def _refused(exc: ApplicationError) -> None:
    if exc.status == 403:
        raise PermissionDenied(exc.message)


@login_required
@require_POST
def duplicate_merge(request: HttpRequest, candidate_id: int) -> HttpResponse:
    _ensure_reviewer(request)
    candidate = _candidate(candidate_id)
    item = _pair_view(request.user, candidate)
    chosen = request.POST.get("primary", "")
    by_id = {str(lead.pk): lead for lead in item.leads}
    try:
        if candidate.status != DuplicateCandidate.Status.OPEN:
            by = f" by {candidate.decided_by}" if candidate.decided_by else ""
            raise ApplicationError(
                f"This pair was already {candidate.get_status_display().lower()}{by}."
            )
        if chosen not in by_id:
            raise ApplicationError("Choose which of the two leads to keep.")
        primary = by_id.pop(chosen)
        (duplicate,) = by_id.values()
        lead_merge(primary=primary, duplicate=duplicate, actor=request.user)
    except ApplicationError as exc:
        _refused(exc)
        item.error = exc.message
        return _answer(request, "leads/duplicates/_pair.html", item, ok=False)
    item.done = (
        f"Merged {duplicate.display_name} (#{duplicate.pk}) into "
        f"{primary.display_name} (#{primary.pk})."
    )
    return _answer(request, "leads/duplicates/_pair.html", item, ok=True)


@login_required
@require_POST
def duplicate_dismiss_pair(request: HttpRequest, candidate_id: int) -> HttpResponse:
    _ensure_reviewer(request)
    candidate = _candidate(candidate_id)
    item = _pair_view(request.user, candidate)
    try:
        duplicate_dismiss(candidate=candidate, actor=request.user)
    except ApplicationError as exc:
        _refused(exc)
        item.error = exc.message
        return _answer(request, "leads/duplicates/_pair.html", item, ok=False)
    a, b = item.leads
    item.done = f"Kept {a.display_name} and {b.display_name} apart: not a duplicate."
    return _answer(request, "leads/duplicates/_pair.html", item, ok=True)


@login_required
@require_POST
def duplicate_unmerge(request: HttpRequest, candidate_id: int) -> HttpResponse:
    _ensure_reviewer(request)
    candidate = _candidate(candidate_id)
    item = _merge_view(request.user, candidate)
    try:
        if item.duplicate is None:
            raise ApplicationError("This merge was already undone or merged further on.")
        lead_unmerge(duplicate=item.duplicate, actor=request.user)
    except ApplicationError as exc:
        _refused(exc)
        item.error = exc.message
        return _answer(request, "leads/duplicates/_merge.html", item, ok=False)
    item.done = (
        f"Merge undone: {item.duplicate.display_name} is a lead of its own again; "
        "the pair is back among the open pairs."
    )
    return _answer(request, "leads/duplicates/_merge.html", item, ok=True)


@login_required
@require_POST
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    if not can_start_scan(request.user):
        raise PermissionDenied("Marketing and admins start a scan of every lead.")
    duplicates_full_scan_enqueue()
    messages.success(request, "Scan started: new likely duplicates appear here when it ends.")
    return redirect("duplicates:list")
