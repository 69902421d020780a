"""Editing a lead's profile by hand (API, page, admin): validated like every incoming lead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.leads.models import Lead, TimelineEvent
from leadpact.leads.normalize import company_key, email_key, search_key
from leadpact.leads.policies import LeadAction, ensure_can_act
from leadpact.leads.records import PROFILE_FIELDS, block_keys, clean_lead_input
from leadpact.leads.services.capture import change_payload
from leadpact.leads.services.dedupe import duplicates_rescan
from leadpact.leads.services.timeline import timeline_event

# What a person may edit: the profile, and the contact details (identity stays unique).
EDITABLE_FIELDS = (*PROFILE_FIELDS, "email", "phone")


def lead_update_clean(*, lead: Lead, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate edited values with ``records.clean_lead_input``; returns field → clean value.

    Unlike a capture, an edit may clear a field (``""``). Raises ``ApplicationError`` with
    ``extra={"fields": {field: message}}``.
    """
    errors: dict[str, str] = {
        name: "cannot be edited here" for name in values if name not in EDITABLE_FIELDS
    }
    for name, value in values.items():
        if name in EDITABLE_FIELDS and value is not None and not isinstance(value, str):
            errors[name] = "must be text"
    if errors:
        raise ApplicationError(_message(errors), extra={"fields": errors})
    # The lead's identity stays in the record unless edited, so "needs an e-mail or an
    # external id" speaks only when an edit would leave the lead with neither.
    raw: dict[str, Any] = {"email": lead.email, "external_id": lead.external_id or None}
    raw.update({name: value for name, value in values.items() if value is not None})
    record, field_errors = clean_lead_input(raw)
    if record is None:
        found = {e.field: e.message for e in field_errors}
        raise ApplicationError(_message(found), extra={"fields": found})
    return {name: getattr(record, name) for name in values if values[name] is not None}


def _message(errors: Mapping[str, str]) -> str:
    return "The lead is not valid: " + "; ".join(f"{k} {v}" for k, v in errors.items()) + "."


@transaction.atomic
def lead_update(
    *,
    lead: Lead,
    actor: User | None,
    values: Mapping[str, Any],
    expected_version: int | None = None,
) -> Lead:
    """Apply edited profile values; ``expected_version`` guards against a lost update (409)."""
    current = Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead.pk)
    ensure_can_act(actor, current, LeadAction.EDIT)
    if expected_version is not None and expected_version != current.version:
        raise ConflictError(
            f"The lead changed since you loaded it (version {current.version}, you had "
            f"{expected_version}); reload and try again.",
            extra={"version": current.version},
        )
    clean = lead_update_clean(lead=current, values=values)
    changes = {
        name: (getattr(current, name), new)
        for name, new in clean.items()
        if getattr(current, name) != new
    }
    if not changes:
        return current
    for name, (_, new) in changes.items():
        setattr(current, name, new)
    fields = [*changes]
    rescan = False
    if "email" in changes:
        current.email_key = email_key(current.email)
        fields.append("email_key")
    if {"first_name", "last_name"} & set(changes):
        current.search_key = search_key(current.first_name, current.last_name)
        fields.append("search_key")
    if "company_name" in changes:
        current.company_key = company_key(current.company_name)
        fields.append("company_key")
    if {"last_name", "company_name", "email", "phone", "first_name"} & set(changes):
        for name, value in block_keys(
            current.last_name, current.company_key, current.email_key
        ).items():
            setattr(current, name, value)
        fields += ["name_block", "email_local"]
        rescan = True  # who it may duplicate changed: scan it again
    current.version += 1
    try:
        with transaction.atomic():
            current.save(update_fields=[*fields, "version", "updated_at"])
    except IntegrityError:
        raise ConflictError(
            "Another lead already has that e-mail address; merge the two instead.",
            extra={"fields": {"email": "already used by another lead"}},
        ) from None
    if rescan:
        duplicates_rescan([current.pk])
    timeline_event(
        lead=current,
        kind=TimelineEvent.Kind.FIELD_CHANGE,
        summary=f"Profile edited: {', '.join(changes)}",
        actor=actor,
        data={"via": "edit", "changes": change_payload(changes)},
    )
    return current
