"""Every state change of campaigns and touches: the API, the pages and the admin call these."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from leadpact.accounts.models import User
from leadpact.accounts.roles import can_manage_campaigns
from leadpact.campaigns.channels import channel_label, channel_slug
from leadpact.campaigns.currencies import ISO_CURRENCIES
from leadpact.campaigns.models import Campaign, Touch, TouchKind
from leadpact.campaigns.selectors import campaigns_by_code
from leadpact.campaigns.touch_input import TouchInput, clean_touch_input
from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.leads.models import Lead, TimelineEvent
from leadpact.leads.normalize import email_key
from leadpact.leads.services.dedupe import survivor_ids
from leadpact.leads.services.timeline import timeline_events_bulk

# --- campaigns -----------------------------------------------------------------------------

CAMPAIGN_TEXT_LIMITS: dict[str, int] = {
    "name": 200,
    "code": 100,
    "channel": 50,
    "currency": 3,
    "utm_source": 100,
    "utm_medium": 100,
    "utm_campaign": 100,
    "description": 5000,
}
CAMPAIGN_FIELDS = (*CAMPAIGN_TEXT_LIMITS, "cost", "start_date", "end_date", "is_active")
COST_MAX = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_CODE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


def _ensure_may_manage(actor: User | None) -> None:
    if actor is not None and not can_manage_campaigns(actor):
        raise PermissionDeniedError("Only marketing and admins manage campaigns.")


def _parse_cost(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be an amount")
    try:
        cost = Decimal(str(value).strip().replace(",", "")) if value != "" else Decimal("0")
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not cost.is_finite():
        raise ValueError("must be a finite amount")
    if cost < 0:
        raise ValueError("cannot be negative")
    if cost.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("has more than 2 decimals")
    if cost > COST_MAX:
        raise ValueError(f"is more than {COST_MAX:,}")
    return cost.quantize(Decimal("0.01"))


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD")
    return parsed


def campaign_values_clean(
    values: Mapping[str, Any], *, campaign: Campaign | None = None
) -> dict[str, Any]:
    """Validate campaign values (all of them for a new campaign, the changed ones for an edit).

    Accepts typed values or the text of an HTML form. Raises ``ApplicationError`` with
    ``extra={"fields": {field: message}}`` naming every bad value.
    """
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in values:
        if name not in CAMPAIGN_FIELDS:
            errors[name] = "unknown field"
    for name, limit in CAMPAIGN_TEXT_LIMITS.items():
        if name not in values:
            continue
        raw = values[name]
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            errors[name] = "must be text"
            continue
        text = raw.strip()
        if len(text) > limit:
            errors[name] = f"is {len(text)} characters; at most {limit}"
        else:
            out[name] = text
    if campaign is None:
        for name in ("name", "code", "channel"):
            if not out.get(name) and name not in errors:
                errors[name] = "is required"
        out.setdefault("currency", "USD")
    for name in ("name", "code", "channel", "currency"):
        if name in out and not out[name] and name not in errors:
            errors[name] = "cannot be empty"
    if out.get("code"):
        code = out["code"].lower()
        if not _CODE.match(code):
            errors["code"] = (
                "use lower-case letters and digits joined by - or _ (it is the utm_campaign)"
            )
        elif Campaign.objects.filter(code=code).exclude(pk=getattr(campaign, "pk", None)).exists():
            errors["code"] = f"“{code}” is already used by another campaign"
        out["code"] = code
    if out.get("channel"):
        out["channel"] = channel_slug(out["channel"])
    if out.get("currency"):
        currency = out["currency"].upper()
        if currency not in ISO_CURRENCIES:
            errors["currency"] = f"“{out['currency']}” is not an ISO 4217 currency code"
        out["currency"] = currency
    if "cost" in values:
        try:
            out["cost"] = _parse_cost(values["cost"])
        except ValueError as exc:
            errors["cost"] = str(exc)
    for name in ("start_date", "end_date"):
        if name in values:
            try:
                out[name] = _parse_date(values[name])
            except ValueError as exc:
                errors[name] = str(exc)
    if "is_active" in values:
        if not isinstance(values["is_active"], bool):
            errors["is_active"] = "must be true or false"
        else:
            out["is_active"] = values["is_active"]
    start = out.get("start_date", getattr(campaign, "start_date", None))
    end = out.get("end_date", getattr(campaign, "end_date", None))
    if start and end and end < start and not {"start_date", "end_date"} & set(errors):
        errors["end_date"] = "is before the start date"
    if errors:
        listed = "; ".join(f"{name} {message}" for name, message in errors.items())
        raise ApplicationError(f"The campaign is not valid: {listed}.", extra={"fields": errors})
    return out


@transaction.atomic
def campaign_create(*, actor: User | None, values: Mapping[str, Any]) -> Campaign:
    _ensure_may_manage(actor)
    clean = campaign_values_clean(values)
    campaign = Campaign(**clean, owner=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:
        raise ConflictError(
            f"“{clean['code']}” is already used by another campaign.",
            extra={"fields": {"code": "already used"}},
        ) from None
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, actor: User | None, values: Mapping[str, Any]
) -> Campaign:
    _ensure_may_manage(actor)
    clean = campaign_values_clean(values, campaign=campaign)
    changed = [name for name, value in clean.items() if getattr(campaign, name) != value]
    if not changed:
        return campaign
    for name in changed:
        setattr(campaign, name, clean[name])
    try:
        with transaction.atomic():
            campaign.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise ConflictError(
            "Another campaign took that code meanwhile.", extra={"fields": {"code": "already used"}}
        ) from None
    return campaign


# --- touches -------------------------------------------------------------------------------


def _touch_row(
    *, lead_id: int, touch: TouchInput, campaign: Campaign | None, default_channel: str
) -> Touch:
    """The ``Touch`` for an input. An unknown campaign code is kept as its ``utm_campaign``."""
    return Touch(
        lead_id=lead_id,
        original_lead_id=lead_id,
        campaign=campaign,
        channel=touch.channel or (campaign.channel if campaign else "") or default_channel,
        kind=touch.kind,
        occurred_at=touch.occurred_at or timezone.now(),
        utm_source=touch.utm_source,
        utm_medium=touch.utm_medium,
        utm_campaign=touch.utm_campaign or touch.campaign,
        utm_term=touch.utm_term,
        utm_content=touch.utm_content,
        referrer=touch.referrer,
        url=touch.url,
        idempotency_key=touch.idempotency_key or f"auto:{uuid.uuid4().hex}",
        data=touch.data,
    )


def _touch_event(touch: Touch, actor: User | None) -> dict[str, Any]:
    """The TOUCH line on the lead's timeline, in ``timeline_events_bulk`` form."""
    parts = [TouchKind(touch.kind).label]
    if touch.campaign is not None:
        parts.append(touch.campaign.name)
    elif touch.utm_campaign:
        parts.append(touch.utm_campaign)
    parts.append(channel_label(touch.channel))
    data: dict[str, Any] = {
        "kind": touch.kind,
        "channel": touch.channel,
        "campaign_id": touch.campaign_id,
    }
    for name in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "url"):
        if getattr(touch, name):
            data[name] = getattr(touch, name)
    return {
        "lead_id": touch.lead_id,
        "kind": TimelineEvent.Kind.TOUCH,
        "summary": " · ".join(parts),
        "actor": actor,
        "data": data,
        "occurred_at": touch.occurred_at,
        "touch_id": touch.pk,
    }


@transaction.atomic
def touch_record(
    *,
    lead: Lead,
    touch: TouchInput,
    campaign: Campaign | None = None,
    actor: User | None = None,
    default_channel: str = "",
) -> tuple[Touch, bool]:
    """Record one touch on ``lead`` with its timeline line; returns ``(touch, created)``.

    Idempotent by ``idempotency_key``: a key already stored returns the stored touch and adds
    nothing, even when two requests race (the unique key decides, inside a savepoint).
    """
    row = _touch_row(
        lead_id=lead.pk,
        touch=touch,
        campaign=campaign,
        default_channel=default_channel or lead.source_channel or "unknown",
    )
    existing = Touch.objects.filter(idempotency_key=row.idempotency_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return Touch.objects.get(idempotency_key=row.idempotency_key), False
    timeline_events_bulk([_touch_event(row, actor)])
    return row, True


@dataclass(frozen=True)
class IngestResult:
    received: int
    created: int
    skipped: int


INGEST_MAX_ITEMS = 5000
_INGEST_LEAD_FIELDS = ("lead_id", "email")
_INGEST_FIELDS = {*_INGEST_LEAD_FIELDS, "kind", "occurred_at", "data", *TouchInput.__annotations__}
_IN_CHUNK = 500


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def _stored_keys(keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(
            Touch.objects.filter(idempotency_key__in=chunk).values_list(
                "idempotency_key", flat=True
            )
        )
    return found


def _validate_items(
    items: Sequence[Any],
) -> tuple[list[tuple[int | None, str | None, TouchInput]], dict[int, dict[str, str]]]:
    valid: list[tuple[int | None, str | None, TouchInput]] = []
    errors: dict[int, dict[str, str]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            errors[index] = {"item": "must be an object"}
            continue
        item_errors = {name: "unknown field" for name in item if name not in _INGEST_FIELDS}
        lead_id, lead_email = item.get("lead_id"), item.get("email")
        if lead_id is not None and lead_email not in (None, ""):
            item_errors["lead_id"] = "give lead_id or email, not both"
        elif lead_id is not None:
            if isinstance(lead_id, bool) or not isinstance(lead_id, int) or lead_id < 1:
                item_errors["lead_id"] = "must be a lead id (a positive whole number)"
        elif isinstance(lead_email, str) and lead_email.strip():
            if len(lead_email.strip()) > 254:
                item_errors["email"] = "is longer than 254 characters"
        elif lead_email is not None and not isinstance(lead_email, str):
            item_errors["email"] = "must be text"
        else:
            item_errors["lead_id"] = "give the lead's id (lead_id) or its e-mail (email)"
        touch, touch_errors = clean_touch_input(
            {k: v for k, v in item.items() if k not in _INGEST_LEAD_FIELDS}, key_required=True
        )
        item_errors.update(touch_errors)
        if item_errors or touch is None:
            errors[index] = item_errors
            continue
        valid.append((lead_id, email_key(lead_email) if lead_id is None else None, touch))
    return valid, errors


def _resolve_leads(
    valid: list[tuple[int | None, str | None, TouchInput]],
) -> tuple[dict[int, int], dict[str, int]]:
    """Map given ids and e-mail keys to live leads, following merges to the survivor."""
    ids = sorted({lead_id for lead_id, _, _ in valid if lead_id is not None})
    keys = sorted({key for _, key, _ in valid if key})
    by_key: dict[str, int] = {}
    for chunk in _chunks(keys):
        by_key.update(
            (key, pk)
            for pk, key in Lead.objects.filter(email_key__in=chunk).values_list("pk", "email_key")
        )
    survivors = survivor_ids([*ids, *by_key.values()])
    by_id = {lead_id: survivors[lead_id] for lead_id in ids if lead_id in survivors}
    return by_id, {key: survivors[pk] for key, pk in by_key.items() if pk in survivors}


def touches_ingest(*, items: Sequence[Any], actor: User | None) -> IngestResult:
    """Store a batch of touches, all or nothing, each at most once.

    Every item is validated first; any bad item rejects the whole batch with per-index errors
    and writes nothing. Items whose ``idempotency_key`` is already stored, or repeated earlier
    in the batch, are skipped, so re-sending a batch adds nothing. Two batches racing on the
    same key: the unique index lets one win; the loser re-reads the stored keys and retries.
    """
    _ensure_may_manage(actor)
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ApplicationError("Send the touches as a list.")
    if len(items) > INGEST_MAX_ITEMS:
        raise ApplicationError(
            f"Send at most {INGEST_MAX_ITEMS:,} touches per batch ({len(items):,} sent)."
        )
    valid, errors = _validate_items(items)
    by_id, by_key = _resolve_leads(valid)
    resolved: list[tuple[int, TouchInput]] = []
    index = 0
    for position, item in enumerate(items):
        if position in errors:
            continue
        lead_id, key, touch = valid[index]
        index += 1
        target = by_id.get(lead_id) if lead_id is not None else by_key.get(key or "")
        if target is None:
            errors[position] = (
                {"lead_id": f"no lead with id {lead_id}"}
                if lead_id is not None
                else {"email": f"no lead with e-mail {item.get('email')!r}"}
            )
            continue
        resolved.append((target, touch))
    if errors:
        raise ApplicationError(
            f"{len(errors)} of {len(items)} touches are not valid; nothing was stored.",
            extra={"errors": {str(i): errors[i] for i in sorted(errors)}},
        )
    campaigns = campaigns_by_code(t.campaign or t.utm_campaign for _, t in resolved)
    unique: dict[str, tuple[int, TouchInput]] = {}
    for lead_id, touch in resolved:
        unique.setdefault(touch.idempotency_key, (lead_id, touch))
    created = _insert_touches(unique, campaigns, actor)
    return IngestResult(received=len(items), created=created, skipped=len(items) - created)


def _insert_touches(
    unique: dict[str, tuple[int, TouchInput]], campaigns: dict[str, Campaign], actor: User | None
) -> int:
    attempts = 3
    for attempt in range(attempts):
        stored = _stored_keys(list(unique))
        rows = [
            _touch_row(
                lead_id=lead_id,
                touch=touch,
                campaign=campaigns.get((touch.campaign or touch.utm_campaign).lower()),
                default_channel="unknown",
            )
            for key, (lead_id, touch) in unique.items()
            if key not in stored
        ]
        try:
            with transaction.atomic():
                Touch.objects.bulk_create(rows, batch_size=1000)
                timeline_events_bulk(_touch_event(row, actor) for row in rows)
        except IntegrityError:
            if attempt == attempts - 1:
                raise ConflictError(
                    "Another batch is storing the same touches; send this one again."
                ) from None
            continue
        return len(rows)
    return 0
