"""What someone can do from the lead page: the lifecycle buttons.

Each button runs its transition through ``lead_transition`` (leads/services/transitions.py), the
same entry the API uses;
who may press it comes from ``policies.can_act`` and which transitions the state allows from
``lifecycle.ALLOWED``, so the page never offers what the service would refuse for those reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_POST

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.common.numbers import is_whole_number
from leadpact.leads.models import Lead, LeadState
from leadpact.leads.policies import LeadAction, can_act
from leadpact.leads.selectors import lead_get
from leadpact.leads.services import lifecycle
from leadpact.leads.services.transitions import lead_transition

S = LeadState
REASON_MAX = 200


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: str
    policy: LeadAction
    to: str | None  # the state it leads to; None when the state does not change
    transition: str  # its name in leads/services/transitions.py
    done: str  # the message after success
    reason: bool = False  # asks for a (required) reason
    needs_rep: bool = False  # asks for a salesperson
    from_states: tuple[str, ...] | None = None  # extra restriction on the current state
    style: str = ""


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "mark_mql",
            "Mark MQL",
            LeadAction.MARK_MQL,
            S.MQL,
            "mark_mql",
            "Marked as a marketing qualified lead.",
            from_states=(S.NEW, S.RECYCLED),
            style="primary",
        ),
        ActionSpec(
            "offer",
            "Offer to rep",
            LeadAction.ASSIGN,
            S.OFFERED,
            "offer",
            "Offered; the rep now accepts or rejects it.",
            needs_rep=True,
            style="primary",
        ),
        ActionSpec(
            "accept",
            "Accept",
            LeadAction.ACCEPT,
            S.ACCEPTED,
            "accept",
            "Accepted: the lead is in your funnel.",
            from_states=(S.OFFERED,),
            style="primary",
        ),
        ActionSpec(
            "reject",
            "Reject",
            LeadAction.REJECT,
            S.RECYCLED,
            "reject",
            "Rejected; the lead went back to marketing with your reason.",
            reason=True,
            from_states=(S.OFFERED,),
            style="danger",
        ),
        ActionSpec(
            "qualify",
            "Qualify (SQL)",
            LeadAction.WORK,
            S.SQL,
            "qualify",
            "Qualified: sales qualified lead.",
            style="primary",
        ),
        ActionSpec(
            "convert",
            "Convert to opportunity",
            LeadAction.WORK,
            S.OPPORTUNITY,
            "convert",
            "Converted to an opportunity.",
            style="primary",
        ),
        ActionSpec(
            "won",
            "Won",
            LeadAction.WORK,
            S.WON,
            "win",
            "Closed as won.",
            style="primary",
        ),
        ActionSpec(
            "lost",
            "Lost",
            LeadAction.WORK,
            S.LOST,
            "lose",
            "Closed as lost.",
            reason=True,
            style="danger",
        ),
        ActionSpec(
            "assign",
            "Assign to",
            LeadAction.ASSIGN,
            None,
            "assign",
            "Owner changed.",
            needs_rep=True,
            from_states=(S.ACCEPTED, S.SQL, S.OPPORTUNITY),
        ),
        ActionSpec(
            "recycle",
            "Recycle to marketing",
            LeadAction.RECYCLE,
            S.RECYCLED,
            "recycle",
            "Recycled to marketing.",
            reason=True,
        ),
        ActionSpec(
            "disqualify",
            "Disqualify",
            LeadAction.DISQUALIFY,
            S.DISQUALIFIED,
            "disqualify",
            "Disqualified.",
            reason=True,
            style="danger",
        ),
    )
}


def available_actions(user: Any, lead: Lead) -> list[ActionSpec]:
    """The buttons ``user`` sees on ``lead``'s page, in lifecycle order."""
    if lead.merged_into_id:
        return []
    allowed = lifecycle.ALLOWED.get(lead.state, set())
    return [
        spec
        for spec in ACTIONS.values()
        if (spec.to is None or spec.to in allowed)
        and (spec.from_states is None or lead.state in spec.from_states)
        and can_act(user, lead, spec.policy)
    ]


def _form_values(spec: ActionSpec, post: QueryDict) -> dict[str, Any]:
    """Read and check the inputs an action needs; raises ``ApplicationError``."""
    values: dict[str, Any] = {}
    if spec.reason:
        reason = post.get("reason", "").strip()
        if not reason:
            raise ApplicationError(f"{spec.label}: say why, in a few words.")
        if len(reason) > REASON_MAX:
            raise ApplicationError(f"Keep the reason under {REASON_MAX} characters.")
        values["reason"] = reason
    if spec.needs_rep:
        raw = post.get("rep", "").strip()
        rep = User.objects.filter(pk=int(raw)).first() if is_whole_number(raw) else None
        if rep is None:
            raise ApplicationError("Choose the salesperson.")
        values["rep"] = rep
    return values


def load_lead(lead_id: int) -> Lead:
    try:
        return lead_get(lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404("There is no lead with this number.") from None


def _lead_page(request: HttpRequest, lead_id: int, **_: Any) -> str:
    return reverse("leads:detail", args=[lead_id])


@login_required
@require_POST
@form_post(_lead_page)
def lead_act(request: HttpRequest, lead_id: int, action: str) -> str:
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("There is no such action.")
    lead = load_lead(lead_id)
    if lead.merged_into_id:
        raise ApplicationError("This lead was merged into another; act on that one instead.")
    lead_transition(
        lead=lead,
        actor=request.user,
        action=spec.transition,
        **_form_values(spec, request.POST),
    )
    return spec.done
