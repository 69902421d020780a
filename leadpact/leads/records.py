"""An incoming lead, cleaned and validated, and the rule for merging it into an existing lead.

Every way a lead arrives (web form, REST API, CSV import, demo) builds a ``LeadInput`` with
``clean_lead_input`` and, when the person is already known, merges it with ``lead_changes``:
one validation and one merge rule for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from leadpact.campaigns.channels import channel_slug
from leadpact.common.spreadsheet import looks_like_formula
from leadpact.leads.normalize import (
    company_key,
    email_key,
    email_local_part,
    name_block_key,
    normalize_phone,
    search_key,
)

# Text fields of a lead that an incoming record may set, with their maximum length.
PROFILE_FIELDS: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "title": 150,
    "company_name": 200,
    "country": 100,
    "city": 100,
}
IDENTITY_FIELDS: dict[str, int] = {"email": 254, "phone": 32, "external_id": 100}
SOURCE_FIELDS: dict[str, int] = {
    "external_source": 50,
    "source_channel": 50,
    "source_detail": 200,
    "campaign": 100,
}
ATTRIBUTE_KEY_MAX = 100
ATTRIBUTE_VALUE_MAX = 1000
ATTRIBUTES_MAX = 200

_email_validator = EmailValidator()


@dataclass
class LeadInput:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    title: str = ""
    company_name: str = ""
    country: str = ""
    city: str = ""
    external_source: str = ""
    external_id: str = ""
    source_channel: str = ""
    source_detail: str = ""
    campaign: str = ""  # a campaign code (utm_campaign); resolved by the caller
    captured_at: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def email_key(self) -> str | None:
        return email_key(self.email)

    @property
    def external_key(self) -> tuple[str, str] | None:
        return (self.external_source, self.external_id) if self.external_id else None


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def to_aware_datetime(value: Any) -> datetime:
    """A datetime from a ``datetime``, a ``date`` or an ISO-8601 string; naive → project zone."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time.min)
    else:
        text = str(value).strip()
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            if day is None:
                raise ValueError(f"{value!r} is not a date (use ISO 8601, e.g. 2024-03-31)")
            parsed = datetime.combine(day, time.min)
        result = parsed
    if timezone.is_naive(result):
        result = timezone.make_aware(result)
    return result


def clean_lead_input(
    raw: Mapping[str, Any], *, default_region: str | None = None
) -> tuple[LeadInput | None, list[FieldError]]:
    """Validate a mapping of incoming values. Returns the cleaned input, or ``None`` and why not.

    Unknown keys are not accepted here: callers map their columns or fields first, and put
    anything else under ``attributes``.
    """
    errors: list[FieldError] = []
    region = (default_region or settings.LEADPACT_DEFAULT_PHONE_REGION).upper()
    out = LeadInput()
    known = {**PROFILE_FIELDS, **IDENTITY_FIELDS, **SOURCE_FIELDS}
    for name in raw:
        if name not in known and name not in ("captured_at", "attributes"):
            errors.append(FieldError(name, "unknown field"))
    for name, limit in known.items():
        value = raw.get(name)
        if value is None:
            continue
        text = str(value).strip()
        if looks_like_formula(text) and not (name == "phone" and text.startswith("+")):
            errors.append(FieldError(name, "looks like a spreadsheet formula; refused"))
            continue
        if len(text) > limit:
            errors.append(FieldError(name, f"is {len(text)} characters; at most {limit}"))
            continue
        setattr(out, name, text)

    if out.email:
        try:
            _email_validator(out.email)
        except ValidationError:
            errors.append(FieldError("email", f"{out.email!r} is not a valid e-mail address"))
    if out.phone:
        try:
            out.phone = normalize_phone(out.phone, region)
        except ValueError as exc:
            errors.append(FieldError("phone", str(exc)))
    if out.source_channel:
        out.source_channel = channel_slug(out.source_channel)
    if raw.get("captured_at") not in (None, ""):
        try:
            out.captured_at = to_aware_datetime(raw["captured_at"])
        except (ValueError, OverflowError) as exc:
            errors.append(FieldError("captured_at", str(exc)))
        else:
            if out.captured_at > timezone.now() + timezone.timedelta(days=1):
                errors.append(FieldError("captured_at", "is in the future"))
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        errors.append(FieldError("attributes", "must be an object of name → value"))
    else:
        if len(attributes) > ATTRIBUTES_MAX:
            errors.append(FieldError("attributes", f"at most {ATTRIBUTES_MAX} attributes"))
        for key, value in attributes.items():
            key_text = str(key).strip()
            text = "" if value is None else str(value).strip()
            if not key_text or len(key_text) > ATTRIBUTE_KEY_MAX:
                errors.append(FieldError("attributes", f"bad attribute name {key_text[:40]!r}"))
            elif len(text) > ATTRIBUTE_VALUE_MAX:
                errors.append(
                    FieldError(
                        key_text, f"is {len(text)} characters; at most {ATTRIBUTE_VALUE_MAX}"
                    )
                )
            elif looks_like_formula(text):
                errors.append(FieldError(key_text, "looks like a spreadsheet formula; refused"))
            elif text:
                out.attributes[key_text] = text
    if not (out.email or out.external_id):
        errors.append(FieldError("email", "a lead needs an e-mail address or an external id"))
    if errors:
        return None, errors
    return out, []


def new_lead_values(record: LeadInput, *, campaign_id: int | None) -> dict[str, Any]:
    """The field values of a new ``Lead`` made from ``record``."""
    company = company_key(record.company_name)
    return {
        **{name: getattr(record, name) for name in PROFILE_FIELDS},
        "email": record.email,
        "email_key": record.email_key,
        "phone": record.phone,
        "external_source": record.external_source,
        "external_id": record.external_id or None,
        "source_channel": record.source_channel or "unknown",
        "source_detail": record.source_detail,
        "source_campaign_id": campaign_id,
        "captured_at": record.captured_at or timezone.now(),
        "attributes": dict(record.attributes),
        "search_key": search_key(record.first_name, record.last_name),
        "company_key": company,
        **block_keys(record.last_name, company, record.email_key),
    }


def block_keys(last_name: str, company: str, email: str | None) -> dict[str, str]:
    """The stored likely-duplicate block keys (``name_block``, ``email_local``) of a lead with
    this last name, company key and e-mail key."""
    return {
        "name_block": name_block_key(last_name, company),
        "email_local": email_local_part(email),
    }


def lead_changes(
    current: Mapping[str, Any], record: LeadInput, *, campaign_id: int | None
) -> dict[str, tuple[Any, Any]]:
    """What merging ``record`` into a lead whose values are ``current`` changes: field → (old, new).

    The rule: a non-empty incoming profile value replaces the stored one; an e-mail or external
    id only fills a blank (identity never changes silently); the source (channel, campaign,
    first contact) is the first touch, so it changes only when the record is older; attributes
    merge, incoming values winning. Re-sending the same record changes nothing.
    """
    changes: dict[str, tuple[Any, Any]] = {}

    def put(name: str, new: Any) -> None:
        old = current.get(name)
        if new != old:
            changes[name] = (old, new)

    for name in PROFILE_FIELDS:
        value = getattr(record, name)
        if value:
            put(name, value)
    if record.phone:
        put("phone", record.phone)
    if record.email and not current.get("email_key"):
        put("email", record.email)
        put("email_key", record.email_key)
    if record.external_id and not current.get("external_id"):
        put("external_source", record.external_source)
        put("external_id", record.external_id)
    stored_at = current.get("captured_at")
    if record.captured_at and (stored_at is None or record.captured_at < stored_at):
        put("captured_at", record.captured_at)
        if record.source_channel:
            put("source_channel", record.source_channel)
        if record.source_detail:
            put("source_detail", record.source_detail)
        if campaign_id:
            put("source_campaign_id", campaign_id)
    if record.attributes:
        merged = {**(current.get("attributes") or {}), **record.attributes}
        put("attributes", merged)
    if "first_name" in changes or "last_name" in changes:
        first = changes.get("first_name", (None, current.get("first_name", "")))[1]
        last = changes.get("last_name", (None, current.get("last_name", "")))[1]
        put("search_key", search_key(first or "", last or ""))
    if "company_name" in changes:
        put("company_key", company_key(changes["company_name"][1]))
    if {"last_name", "company_name", "email_key"} & changes.keys():
        keys = block_keys(
            changes.get("last_name", (None, current.get("last_name", "")))[1] or "",
            changes.get("company_key", (None, current.get("company_key", "")))[1] or "",
            changes.get("email_key", (None, current.get("email_key")))[1],
        )
        for name, value in keys.items():
            put(name, value)
    return changes


# Fields whose change is worth a line on the timeline (derived keys are not).
VISIBLE_CHANGE_FIELDS = (
    *PROFILE_FIELDS,
    "email",
    "phone",
    "external_id",
    "captured_at",
    "source_channel",
    "source_detail",
    "source_campaign_id",
    "attributes",
)
