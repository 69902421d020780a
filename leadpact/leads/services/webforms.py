"""Public web forms: set them up, and take a submission (the ``/f/<key>`` endpoint calls this).

A submission becomes a lead through ``lead_capture`` with a FORM_FILL touch, so a form, the API
and an import create and merge people the same way.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F

from leadpact.accounts.models import User
from leadpact.accounts.roles import can_manage_campaigns
from leadpact.campaigns.channels import channel_from_utm, channel_slug
from leadpact.campaigns.models import Campaign, TouchKind
from leadpact.campaigns.touch_input import clean_touch_input
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.leads.models import WebForm
from leadpact.leads.records import clean_lead_input
from leadpact.leads.services.capture import lead_capture

# Form field → lead field. Every other field that is not a touch or control field is kept
# as a lead attribute (bounded by records.py).
FORM_LEAD_FIELDS: dict[str, str] = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company_name",
    "phone": "phone",
    "title": "title",
    "country": "country",
    "city": "city",
}
# Form field → touch field.
FORM_TOUCH_FIELDS: dict[str, str] = {
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_term": "utm_term",
    "utm_content": "utm_content",
    "referrer": "referrer",
    "page_url": "url",
    "url": "url",
}
CONTROL_FIELDS = ("submission_id", "csrfmiddlewaretoken")
SUBMISSION_ID_MAX = 100
REFERRER_MAX = 500


@dataclass(frozen=True)
class SubmissionResult:
    spam: bool
    created: bool = False


def _text_fields(fields: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Scalar values as text; a list or an object is refused (naming the field)."""
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[name] = str(value)
        else:
            errors[str(name)] = "must be a single value"
    return out, errors


def _error(errors: Mapping[str, str]) -> ApplicationError:
    listed = "; ".join(f"{name} {message}" for name, message in errors.items())
    return ApplicationError(f"The form is not valid: {listed}.", extra={"fields": dict(errors)})


def web_form_submit(
    *, form: WebForm, fields: Mapping[str, Any], referrer_header: str = ""
) -> SubmissionResult:
    """Take one submission. A filled honeypot is counted as spam and stores nothing.

    Raises ``ApplicationError`` (400) naming each bad field by its form name.
    """
    if not form.is_active:
        raise ApplicationError("No such form.", code="not_found", status=404)
    text, errors = _text_fields(fields)
    if text.get(form.honeypot_field, "").strip():
        WebForm.objects.filter(pk=form.pk).update(spam_blocked=F("spam_blocked") + 1)
        return SubmissionResult(spam=True)
    if errors:
        raise _error(errors)
    submission_id = text.get("submission_id", "").strip()
    if len(submission_id) > SUBMISSION_ID_MAX:
        raise _error({"submission_id": f"is longer than {SUBMISSION_ID_MAX} characters"})
    known = {*FORM_LEAD_FIELDS, *FORM_TOUCH_FIELDS, *CONTROL_FIELDS, form.honeypot_field}
    raw: dict[str, Any] = {
        FORM_LEAD_FIELDS[name]: value for name, value in text.items() if name in FORM_LEAD_FIELDS
    }
    raw["attributes"] = {name: value for name, value in text.items() if name not in known}
    utm_medium = text.get("utm_medium", "").strip()
    channel = channel_from_utm(utm_medium) or form.channel
    raw["source_channel"] = channel
    raw["source_detail"] = f"Web form: {form.name}"[:200]
    if form.campaign_id:
        raw["campaign"] = form.campaign.code
    record, lead_errors = clean_lead_input(raw)
    back = {lead: name for name, lead in FORM_LEAD_FIELDS.items()}
    found = {back.get(e.field, e.field): e.message for e in lead_errors}

    touch_raw: dict[str, Any] = {
        touch: text[name].strip() for name, touch in FORM_TOUCH_FIELDS.items() if name in text
    }
    if not touch_raw.get("referrer") and referrer_header:
        touch_raw["referrer"] = referrer_header.strip()[:REFERRER_MAX]
    touch_raw.update(
        kind=TouchKind.FORM_FILL,
        channel=channel,
        idempotency_key=f"form:{form.key}:{submission_id or uuid.uuid4().hex}",
        data={"form": form.key},
    )
    touch, touch_errors = clean_touch_input(touch_raw)
    touch_back = {"url": "page_url" if "page_url" in text else "url"}
    found.update({touch_back.get(k, k): v for k, v in touch_errors.items()})
    if found or record is None or touch is None:
        raise _error(found)
    with transaction.atomic():
        result = lead_capture(record=record, actor=None, via="form", touch=touch)
        if result.touch_created:
            WebForm.objects.filter(pk=form.pk).update(submissions=F("submissions") + 1)
    return SubmissionResult(spam=False, created=result.created)


# --- setting forms up ----------------------------------------------------------------------

_url_validator = URLValidator(schemes=["http", "https"])


def _clean_form_values(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    allowed = {"name", "campaign", "channel", "redirect_url", "honeypot_field", "is_active"}
    for name in values:
        if name not in allowed:
            errors[name] = "unknown field"
    name = str(values.get("name") or "").strip()
    if "name" in values or creating:
        if not name:
            errors["name"] = "is required"
        elif len(name) > 200:
            errors["name"] = "is at most 200 characters"
        out["name"] = name
    if "channel" in values or creating:
        out["channel"] = channel_slug(str(values.get("channel") or "direct_traffic"))
    if "campaign" in values:
        campaign = values["campaign"]
        if campaign is not None and not isinstance(campaign, Campaign):
            errors["campaign"] = "is not a campaign"
        out["campaign"] = campaign
    if "redirect_url" in values:
        url = str(values["redirect_url"] or "").strip()
        if url:
            try:
                _url_validator(url)
            except ValidationError:
                errors["redirect_url"] = "is not an http(s) address"
            if len(url) > 200:
                errors["redirect_url"] = "is at most 200 characters"
        out["redirect_url"] = url
    if "honeypot_field" in values:
        trap = str(values["honeypot_field"] or "").strip()
        if not trap or len(trap) > 50 or trap in FORM_LEAD_FIELDS or trap in FORM_TOUCH_FIELDS:
            errors["honeypot_field"] = "must be a short name that no real field uses"
        out["honeypot_field"] = trap
    if "is_active" in values:
        out["is_active"] = bool(values["is_active"])
    if errors:
        raise _error(errors)
    return out


def _ensure_may_manage(actor: User | None) -> None:
    if actor is not None and not can_manage_campaigns(actor):
        raise PermissionDeniedError("Only marketing and admins set up web forms.")


@transaction.atomic
def web_form_create(*, actor: User | None, values: Mapping[str, Any]) -> WebForm:
    _ensure_may_manage(actor)
    clean = _clean_form_values(values, creating=True)
    return WebForm.objects.create(key=secrets.token_hex(8), **clean)


@transaction.atomic
def web_form_update(*, form: WebForm, actor: User | None, values: Mapping[str, Any]) -> WebForm:
    _ensure_may_manage(actor)
    clean = _clean_form_values(values, creating=False)
    changed = [name for name, value in clean.items() if getattr(form, name) != value]
    for name in changed:
        setattr(form, name, clean[name])
    if changed:
        form.save(update_fields=[*changed, "updated_at"])
    return form
