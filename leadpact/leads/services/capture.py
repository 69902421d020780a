"""Capture: a lead arrives (web form, API, import, demo) and is created or merged, never forked.

The person is found by normalised e-mail, else by ``(external_source, external_id)``; a match
that was merged away is followed to the surviving lead. New values merge by the one rule in
``records.lead_changes``; every outcome lands on the lead's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction

from leadpact.accounts.models import User
from leadpact.campaigns.models import Campaign
from leadpact.campaigns.selectors import campaigns_by_code
from leadpact.campaigns.services import touch_record
from leadpact.campaigns.touch_input import TouchInput
from leadpact.common.errors import ApplicationError
from leadpact.leads.matching import COLUMNS
from leadpact.leads.models import Lead, TimelineEvent
from leadpact.leads.policies import LeadAction, ensure_can_act
from leadpact.leads.records import (
    VISIBLE_CHANGE_FIELDS,
    LeadInput,
    lead_changes,
    new_lead_values,
)
from leadpact.leads.services.dedupe import (
    duplicates_rescan,
    duplicates_scan_pending_enqueue,
    duplicates_scan_queue,
    survivor_ids,
)
from leadpact.leads.services.timeline import timeline_event
from leadpact.scoring.services.rescoring import lead_score_refresh

__all__ = ["CaptureResult", "TouchInput", "lead_capture", "lead_current_values"]

VIA_MAX = 30
# The lead values the likely-duplicate matcher reads: a change to one means a new scan.
MATCHED_FIELDS = frozenset(COLUMNS) - {"id"}


@dataclass
class CaptureResult:
    lead: Lead
    created: bool
    changed_fields: list[str] = field(default_factory=list)
    touch_created: bool = False


def lead_current_values(lead: Lead) -> dict[str, Any]:
    """The stored values of ``lead`` by column name, as ``records.lead_changes`` reads them."""
    return {f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields}


def change_payload(changes: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` of the fields worth showing, JSON-safe for the timeline."""

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime | date) else value

    return {
        name: [plain(old), plain(new)]
        for name, (old, new) in changes.items()
        if name in VISIBLE_CHANGE_FIELDS
    }


def _find(record: LeadInput) -> Lead | None:
    """The live lead this record belongs to, locked for the merge."""
    match: Lead | None = None
    if record.email_key:
        match = Lead.objects.filter(email_key=record.email_key).first()
    if match is None and record.external_key:
        source, external_id = record.external_key
        match = Lead.objects.filter(external_source=source, external_id=external_id).first()
    if match is None:
        return None
    target = match.pk
    if match.merged_into_id is not None:
        target = survivor_ids([match.pk]).get(match.pk, match.pk)
    return Lead.objects.select_for_update().get(pk=target)


def _resolve_campaign(record: LeadInput, touch: TouchInput | None) -> Campaign | None:
    """The first known code among the touch's campaign, its utm_campaign and the record's."""
    codes = [c for c in (touch.campaign, touch.utm_campaign) if c] if touch else []
    if record.campaign:
        codes.append(record.campaign)
    found = campaigns_by_code(codes)
    for code in codes:
        if code.strip().lower() in found:
            return found[code.strip().lower()]
    return None


def _create(record: LeadInput, campaign: Campaign | None, actor: User | None, via: str) -> Lead:
    values = new_lead_values(record, campaign_id=campaign.pk if campaign else None)
    if campaign and not record.source_channel:
        values["source_channel"] = campaign.channel
    lead = Lead(**values)
    with transaction.atomic():  # a savepoint: a racing insert of the same person rolls back alone
        lead.save()
        duplicates_scan_queue([lead.pk])  # scanned for likely duplicates after commit
        data: dict[str, Any] = {"via": via, "channel": lead.source_channel}
        if campaign:
            data["campaign_id"] = campaign.pk
        summary = f"Captured via {via}" + (f" ({campaign.name})" if campaign else "")
        timeline_event(
            lead=lead,
            kind=TimelineEvent.Kind.CREATED,
            summary=summary,
            actor=actor,
            data=data,
            occurred_at=lead.captured_at,
        )
    return lead


def _merge(
    lead: Lead, record: LeadInput, campaign: Campaign | None, actor: User | None, via: str
) -> list[str]:
    # Capturing a known person edits them: a signed-in caller needs the right to edit that
    # lead (the public form and system jobs pass no actor).
    ensure_can_act(actor, lead, LeadAction.EDIT)
    if record.external_key and not lead.external_id:
        source, external_id = record.external_key
        taken = (
            Lead.objects.filter(external_source=source, external_id=external_id)
            .exclude(pk=lead.pk)
            .exists()
        )
        if taken:  # the id belongs to another lead: keep identities apart, merge the rest
            record = replace(record, external_source="", external_id="")
    changes = lead_changes(
        lead_current_values(lead), record, campaign_id=campaign.pk if campaign else None
    )
    if not changes:
        return []
    for name, (_, new) in changes.items():
        setattr(lead, name, new)
    lead.version += 1
    lead.save(update_fields=[*changes, "version", "updated_at"])
    if MATCHED_FIELDS & changes.keys():  # who it may duplicate changed: scan it again
        duplicates_rescan([lead.pk])
    visible = change_payload(changes)
    if visible:
        timeline_event(
            lead=lead,
            kind=TimelineEvent.Kind.FIELD_CHANGE,
            summary=f"Updated via {via}: {', '.join(visible)}",
            actor=actor,
            data={"via": via, "changes": visible},
        )
    return list(changes)


@transaction.atomic
def lead_capture(
    *, record: LeadInput, actor: User | None, via: str, touch: TouchInput | None = None
) -> CaptureResult:
    """Create the lead, or merge ``record`` into the person already known; record the touch.

    ``record`` comes from ``records.clean_lead_input`` (already validated). Two requests that
    create the same person at once: the unique e-mail key lets one insert win, and the other
    turns into a merge into that lead.
    """
    via = (via or "").strip()[:VIA_MAX]
    if not via:
        raise ApplicationError("Say how the lead arrived (via).")
    if not (record.email_key or record.external_key):
        raise ApplicationError("A lead needs an e-mail address or an external id.")
    campaign = _resolve_campaign(record, touch)
    lead = _find(record)
    created = False
    changed: list[str] = []
    if lead is None:
        try:
            lead = _create(record, campaign, actor, via)
            created = True
        except IntegrityError:
            lead = _find(record)
            if lead is None:
                raise
    if not created:
        changed = _merge(lead, record, campaign, actor, via)
    touch_created = False
    if touch is not None:
        if record.campaign and not (touch.campaign or touch.utm_campaign):
            touch = replace(touch, campaign=record.campaign)  # kept as text when unknown
        _, touch_created = touch_record(
            lead=lead,
            touch=touch,
            campaign=campaign,
            actor=actor,
            default_channel=record.source_channel or lead.source_channel,
        )
    # Scored at capture (may make it an MQL, whose routing job is then queued), from the lead
    # as just saved; a new lead has no touches but the one recorded here.
    lead_score_refresh([lead.pk], leads=[lead], untouched=created and not touch_created)
    if created:  # after the routing job: jobs are sent in the order they were queued
        duplicates_scan_pending_enqueue()
    return CaptureResult(
        lead=lead, created=created, changed_fields=changed, touch_created=touch_created
    )
