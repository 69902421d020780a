"""The company's short lists of the hand-off: rejection reasons and the qualification checklist.

Admins and sales managers add, rename, deactivate and reorder them, each change kept in the
audit trail (``RoutingChange``). Nothing is deleted: past rejections keep pointing at their
reason (reports count by it), and a deactivated reason or checklist item simply stops being
offered.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.routing.models import QualificationItem, RejectionReason, RoutingChange
from leadpact.routing.roles import can_manage_routing
from leadpact.routing.services.audit import routing_change_log, snapshot
from leadpact.routing.services.ordering import position_next, position_swap

REASON, ITEM = RoutingChange.Subject.REASON, RoutingChange.Subject.CHECKLIST
CREATED, UPDATED, MOVED = (
    RoutingChange.Action.CREATED,
    RoutingChange.Action.UPDATED,
    RoutingChange.Action.MOVED,
)


def _ensure_manager(actor: Any) -> None:
    if not can_manage_routing(actor):
        raise PermissionDeniedError(
            "Only an admin or a sales manager changes rejection reasons and the checklist."
        )


def _text(value: Any, label: str, limit: int, *, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ApplicationError(f"{label} is required.", extra={"field": label.lower()})
    if len(text) > limit:
        raise ApplicationError(
            f"{label} is at most {limit} characters.", extra={"field": label.lower()}
        )
    return text


REASON_FIELDS = ("label", "is_active")
ITEM_FIELDS = ("label", "help_text", "is_active")


def _recorded(subject: str, row: Any, action: str, actor: Any, before: Any, fields: Any) -> None:
    routing_change_log(
        subject=subject, row=row, action=action, actor=actor, before=before, fields=fields
    )


# --- rejection reasons -------------------------------------------------------------------------
@transaction.atomic
def rejection_reason_create(*, actor: Any, label: str) -> RejectionReason:
    _ensure_manager(actor)
    label = _text(label, "Label", 120)
    code = slugify(label)[:50]
    if not code:
        raise ApplicationError("Write the reason with some letters or digits.")
    if RejectionReason.objects.filter(label__iexact=label).exists():
        raise ApplicationError(f"The reason “{label}” is already on the list.")
    base, n = code, 2
    while RejectionReason.objects.filter(code=code).exists():
        suffix = f"-{n}"
        code, n = base[: 50 - len(suffix)] + suffix, n + 1
    made = RejectionReason.objects.create(
        code=code, label=label, position=position_next(RejectionReason)
    )
    _recorded(REASON, made, CREATED, actor, None, REASON_FIELDS)
    return made


@transaction.atomic
def rejection_reason_update(
    *, reason: RejectionReason, actor: Any, label: str, is_active: bool
) -> RejectionReason:
    """Rename or (de)activate; the code stays, so past rejections keep their reason."""
    _ensure_manager(actor)
    label = _text(label, "Label", 120)
    if RejectionReason.objects.filter(label__iexact=label).exclude(pk=reason.pk).exists():
        raise ApplicationError(f"The reason “{label}” is already on the list.")
    current = RejectionReason.objects.select_for_update().get(pk=reason.pk)
    before = snapshot(current, REASON_FIELDS)
    if not is_active and current.is_active:
        others = RejectionReason.objects.filter(is_active=True).exclude(pk=current.pk)
        if not others.exists():
            raise ApplicationError(
                "Keep at least one active reason: reps choose from this list when they reject."
            )
    current.label, current.is_active = label, is_active
    current.save(update_fields=["label", "is_active", "updated_at"])
    _recorded(REASON, current, UPDATED, actor, before, REASON_FIELDS)
    return current


@transaction.atomic
def rejection_reason_move(*, reason: RejectionReason, actor: Any, up: bool) -> bool:
    """Move a reason up or down the list; False when it was already at that end."""
    _ensure_manager(actor)
    moved = position_swap(RejectionReason, reason, up=up)
    if moved:
        _recorded(REASON, reason, MOVED, actor, None, ())
    return moved


# --- the qualification checklist ---------------------------------------------------------------
@transaction.atomic
def checklist_item_create(*, actor: Any, label: str, help_text: str = "") -> QualificationItem:
    _ensure_manager(actor)
    made = QualificationItem.objects.create(
        label=_text(label, "Label", 200),
        help_text=_text(help_text, "Help text", 300, required=False),
        position=position_next(QualificationItem),
    )
    _recorded(ITEM, made, CREATED, actor, None, ITEM_FIELDS)
    return made


@transaction.atomic
def checklist_item_update(
    *, item: QualificationItem, actor: Any, label: str, help_text: str, is_active: bool
) -> QualificationItem:
    """Change or (de)activate a checklist line; leads already qualified keep what they ticked
    (it is written on their timeline)."""
    _ensure_manager(actor)
    current = QualificationItem.objects.select_for_update().get(pk=item.pk)
    before = snapshot(current, ITEM_FIELDS)
    current.label = _text(label, "Label", 200)
    current.help_text = _text(help_text, "Help text", 300, required=False)
    current.is_active = is_active
    current.save(update_fields=["label", "help_text", "is_active", "updated_at"])
    _recorded(ITEM, current, UPDATED, actor, before, ITEM_FIELDS)
    return current


@transaction.atomic
def checklist_item_move(*, item: QualificationItem, actor: Any, up: bool) -> bool:
    """Move a checklist line up or down; False when it was already at that end."""
    _ensure_manager(actor)
    moved = position_swap(QualificationItem, item, up=up)
    if moved:
        _recorded(ITEM, item, MOVED, actor, None, ())
    return moved
