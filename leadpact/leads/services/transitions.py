"""A lifecycle move by name: the one table from a transition's name to its lifecycle service.

The lead page's buttons and the API's ``/transitions/`` endpoint both go through
``lead_transition``, so they offer the same moves with the same inputs and neither keeps a
copy of the mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.leads.services import lifecycle


@dataclass(frozen=True)
class Transition:
    service: Callable[..., Lead]
    inputs: tuple[str, ...] = ()  # among "reason", "note" and "rep"
    rep_keyword: str = "rep"  # the service's keyword for the salesperson


TRANSITIONS: dict[str, Transition] = {
    "mark_mql": Transition(lifecycle.lead_mark_mql, ("reason",)),
    "offer": Transition(lifecycle.lead_offer, ("rep", "reason")),
    "accept": Transition(lifecycle.lead_accept),
    "reject": Transition(lifecycle.lead_reject, ("reason", "note")),
    "qualify": Transition(lifecycle.lead_qualify, ("note",)),
    "convert": Transition(lifecycle.lead_convert, ("note",)),
    "win": Transition(lifecycle.lead_close_won, ("note",)),
    "lose": Transition(lifecycle.lead_close_lost, ("reason", "note")),
    "recycle": Transition(lifecycle.lead_recycle, ("reason", "note")),
    "disqualify": Transition(lifecycle.lead_disqualify, ("reason", "note")),
    "assign": Transition(lifecycle.lead_assign, ("rep",), rep_keyword="owner"),
}


def lead_transition(
    *,
    lead: Lead,
    actor: User | None,
    action: str,
    reason: str = "",
    note: str = "",
    rep: User | None = None,
) -> Lead:
    """Run the lifecycle service named ``action`` with the inputs it takes. A missing reason
    reaches the service empty, so the service says why it needs one."""
    spec = TRANSITIONS.get(action)
    if spec is None:
        raise ApplicationError(
            f"“{action}” is not a lifecycle move; use one of {', '.join(TRANSITIONS)}.",
            code="unknown_action",
        )
    given: dict[str, Any] = {"reason": reason, "note": note, "rep": rep}
    kwargs = {(spec.rep_keyword if name == "rep" else name): given[name] for name in spec.inputs}
    return spec.service(lead=lead, actor=actor, **kwargs)
