"""Writing one chunk of validated rows: a fixed number of queries, whatever the chunk size.

For a chunk the writer fetches, in bulk, the campaigns its rows name and the leads that share
an e-mail or an external id with them (following merged-away leads to their survivor), then
walks the rows in file order deciding for each one: create a lead, merge into a lead (the
shared ``lead_changes`` rule), or nothing to change. Two rows of the chunk for the same person
meet in memory; rows of earlier chunks are already in the database. Then it writes everything
with ``bulk_create`` / ``bulk_update`` and ``timeline_events_bulk``. The caller wraps the call
in the chunk's transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from leadpact.campaigns.models import Campaign, Touch, TouchKind
from leadpact.campaigns.selectors import campaigns_by_code
from leadpact.common.bulk import bulk_insert
from leadpact.leads.models import Lead, TimelineEvent
from leadpact.leads.records import (
    PROFILE_FIELDS,
    VISIBLE_CHANGE_FIELDS,
    LeadInput,
    lead_changes,
    new_lead_values,
)
from leadpact.leads.services.dedupe import survivor_ids
from leadpact.leads.services.imports.mapping import ColumnMapping
from leadpact.leads.services.imports.rows import MappedRow, RejectedRow
from leadpact.leads.services.imports.seen import SeenRows, fingerprint
from leadpact.leads.services.timeline import timeline_events_bulk
from leadpact.scoring.services.rescoring import lead_score_refresh

IN_BATCH = 900  # parameters per IN (...) list: safe for every SQLite build
WRITE_BATCH = 1000
LEAD_VALUE_FIELDS = (
    "id",
    "merged_into_id",
    *PROFILE_FIELDS,
    "email",
    "email_key",
    "phone",
    "external_source",
    "external_id",
    "captured_at",
    "source_channel",
    "source_detail",
    "source_campaign_id",
    "attributes",
    "search_key",
    "company_key",
    "name_block",
    "email_local",
    "version",
)


@dataclass
class ImportContext:
    """What every chunk of one import shares."""

    mapping: ColumnMapping
    job_id: int
    file_name: str
    actor: Any = None
    dry_run: bool = False
    # dry run only: identities seen in earlier chunks (nothing was written to find them by)
    seen_identities: SeenRows = field(default_factory=SeenRows)


@dataclass
class ChunkOutcome:
    created: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    new_lead_ids: list[int] = field(default_factory=list)
    identities: list[int] = field(default_factory=list)  # dry run: for later chunks


class _Target:
    """A lead as this chunk sees it: stored (``pk``) or about to be created (``pk is None``)."""

    __slots__ = ("changed", "is_new", "pk", "values")

    def __init__(self, pk: int | None, values: dict[str, Any], *, is_new: bool) -> None:
        self.pk = pk
        self.values = values
        self.is_new = is_new
        self.changed: set[str] = set()


def _batches(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), IN_BATCH):
        yield items[start : start + IN_BATCH]


def _identity(record: LeadInput) -> str:
    if record.external_id:
        return f"x:{record.external_source}:{record.external_id}"
    return f"e:{record.email_key}"


def touch_key(source: str, record: LeadInput, occurred: datetime | None, kind: str) -> str:
    """The idempotency key of a row's touch: source + identity + occurred_at + kind."""
    stamp = occurred.isoformat() if occurred else ""
    digest = hashlib.sha256(f"{source}|{_identity(record)}|{stamp}|{kind}".encode()).hexdigest()
    return f"import:{digest[:48]}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _change_data(changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """The visible part of a merge, JSON-ready; attributes as the keys that changed."""
    data: dict[str, Any] = {}
    for name, (old, new) in changes.items():
        if name not in VISIBLE_CHANGE_FIELDS:
            continue
        if name == "attributes":
            old = old or {}
            data[name] = {k: [old.get(k), v] for k, v in (new or {}).items() if old.get(k) != v}
        else:
            data[name] = [_jsonable(old), _jsonable(new)]
    return data


class ChunkWriter:
    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self.mapping = context.mapping
        self._fake_campaign_ids: dict[str, int] = {}

    # --- reads ---------------------------------------------------------------------------
    def _campaigns(self, rows: list[MappedRow]) -> dict[str, int]:
        """Campaign code → id for the codes the rows name, creating missing ones if allowed."""
        rule = self.mapping.campaigns
        first_channel: dict[str, tuple[str, str]] = {}
        for row in rows:
            if row.record.campaign:
                code = rule.code_for(row.record.campaign)
                first_channel.setdefault(
                    code, (row.record.campaign, row.record.source_channel or "unknown")
                )
        if not first_channel:
            return {}
        found = {code: c.pk for code, c in campaigns_by_code(first_channel).items()}
        missing = [code for code in first_channel if code not in found]
        if missing and rule.create_missing:
            if self.context.dry_run:
                for code in missing:
                    found[code] = self._fake_campaign_ids.setdefault(
                        code, -1 - len(self._fake_campaign_ids)
                    )
            else:
                Campaign.objects.bulk_create(
                    [
                        Campaign(
                            name=rule.name_for(first_channel[code][0]),
                            code=code,
                            channel=first_channel[code][1],
                        )
                        for code in missing
                    ],
                    ignore_conflicts=True,
                )
                found.update({code: c.pk for code, c in campaigns_by_code(missing).items()})
        return found

    def _existing(self, rows: list[MappedRow]) -> dict[tuple[str, ...], _Target]:
        """Identity key → the live lead holding it, for every identity the rows carry."""
        emails = sorted({r.record.email_key for r in rows if r.record.email_key})
        by_source: dict[str, set[str]] = {}
        for r in rows:
            if r.record.external_id:
                by_source.setdefault(r.record.external_source, set()).add(r.record.external_id)
        found: dict[int, dict[str, Any]] = {}
        queryset = Lead.objects.values(*LEAD_VALUE_FIELDS)
        for batch in _batches(emails):
            found.update((v["id"], v) for v in queryset.filter(email_key__in=batch))
        for source, ids in by_source.items():
            for batch in _batches(sorted(ids)):
                found.update(
                    (v["id"], v)
                    for v in queryset.filter(Q(external_source=source) & Q(external_id__in=batch))
                )
        merged_away = [pk for pk, v in found.items() if v["merged_into_id"]]
        survivors = survivor_ids(merged_away) if merged_away else {}
        wanted = [pk for pk in set(survivors.values()) if pk not in found]
        for batch in _batches(wanted):
            found.update((v["id"], v) for v in queryset.filter(pk__in=batch))
        targets: dict[int, _Target] = {}
        keys: dict[tuple[str, ...], _Target] = {}
        for pk, values in found.items():
            live = survivors.get(pk, pk)
            if live not in found or found[live]["merged_into_id"]:
                continue  # a broken chain: leave this identity unmatched rather than guess
            target = targets.get(live)
            if target is None:
                target = targets[live] = _Target(live, found[live], is_new=False)
            if values["email_key"]:
                keys.setdefault(("e", values["email_key"]), target)
            if values["external_id"]:
                keys.setdefault(("x", values["external_source"], values["external_id"]), target)
        # a live lead's own identity wins over one it absorbed by a merge
        for target in targets.values():
            self._register(keys, target, force=True)
        return keys

    @staticmethod
    def _register(
        keys: dict[tuple[str, ...], _Target], target: _Target, *, force: bool = False
    ) -> None:
        values = target.values
        pairs = []
        if values.get("email_key"):
            pairs.append(("e", values["email_key"]))
        if values.get("external_id"):
            pairs.append(("x", values["external_source"], values["external_id"]))
        for key in pairs:
            if force:
                keys[key] = target
            else:
                keys.setdefault(key, target)

    # --- the chunk -------------------------------------------------------------------------
    def write(self, rows: list[MappedRow]) -> ChunkOutcome:
        context = self.context
        mapping = self.mapping
        outcome = ChunkOutcome()
        if not rows:
            return outcome
        campaigns = self._campaigns(rows)
        keys = self._existing(rows)
        now = timezone.now()
        source = mapping.external_source or "import"
        touch_rule = mapping.touch
        new_targets: list[_Target] = []
        changed_targets: dict[int, _Target] = {}
        events: list[tuple[_Target, dict[str, Any]]] = []
        touches: list[tuple[_Target, MappedRow, int | None, str, datetime]] = []
        touch_keys: set[str] = set()
        identities = [fingerprint([_identity(r.record)]) for r in rows] if context.dry_run else []
        seen_before = context.seen_identities.lookup(identities) if context.dry_run else []

        for position, row in enumerate(rows):
            record = row.record
            campaign_id = None
            if record.campaign:
                code = mapping.campaigns.code_for(record.campaign)
                campaign_id = campaigns.get(code)
                if campaign_id is None:
                    outcome.rejected.append(
                        RejectedRow(
                            row.line,
                            f"campaign: no campaign with code {code!r} (create it first, or set "
                            '"create_missing": true under "campaigns" in the mapping)',
                            row.cells,
                        )
                    )
                    continue
            by_email = keys.get(("e", record.email_key)) if record.email_key else None
            by_id = (
                keys.get(("x", record.external_source, record.external_id))
                if record.external_id
                else None
            )
            if by_email is not None and by_id is not None and by_email is not by_id:
                outcome.rejected.append(
                    RejectedRow(
                        row.line,
                        f"identity: the e-mail belongs to {_name(by_email)} but the external id "
                        f"to {_name(by_id)}; merge those leads first",
                        row.cells,
                    )
                )
                continue
            target = by_email or by_id
            if target is None:
                values = new_lead_values(record, campaign_id=campaign_id)
                target = _Target(None, values, is_new=True)
                self._register(keys, target)
                new_targets.append(target)
                if context.dry_run and seen_before[position]:
                    outcome.merged += 1  # a row of an earlier chunk would have created it
                else:
                    outcome.created += 1
                events.append(
                    (
                        target,
                        {
                            "kind": TimelineEvent.Kind.CREATED,
                            "summary": f"Imported from {context.file_name}, line {row.line}",
                            "occurred_at": values["captured_at"],
                            "data": {
                                "via": "import",
                                "import_job": context.job_id,
                                "line": row.line,
                            },
                        },
                    )
                )
            else:
                changes = lead_changes(target.values, record, campaign_id=campaign_id)
                if changes:
                    for name, (_, new) in changes.items():
                        target.values[name] = new
                    target.changed.update(changes)
                    if not target.is_new:
                        changed_targets[target.pk] = target  # type: ignore[index]
                    self._register(keys, target)
                    outcome.merged += 1
                    shown = _change_data(changes)
                    events.append(
                        (
                            target,
                            {
                                "kind": TimelineEvent.Kind.FIELD_CHANGE,
                                "summary": f"Updated by import of {context.file_name}, line "
                                f"{row.line}: {', '.join(shown) or 'details'}",
                                "occurred_at": now,
                                "data": {
                                    "via": "import",
                                    "import_job": context.job_id,
                                    "line": row.line,
                                    "changes": shown,
                                },
                            },
                        )
                    )
                else:
                    outcome.unchanged += 1
            if touch_rule is not None:
                occurred = row.touch_at or record.captured_at
                key = touch_key(source, record, occurred, touch_rule.kind)
                if key not in touch_keys:
                    touch_keys.add(key)
                    touches.append(
                        (target, row, campaign_id, key, occurred or target.values["captured_at"])
                    )

        if touches:
            existing_keys: set[str] = set()
            for batch in _batches(sorted(touch_keys)):
                existing_keys.update(
                    Touch.objects.filter(idempotency_key__in=batch).values_list(
                        "idempotency_key", flat=True
                    )
                )
            touches = [t for t in touches if t[3] not in existing_keys]
        if context.dry_run:
            outcome.identities = identities  # remembered once the chunk is through
            return outcome

        self._save_leads(new_targets, changed_targets, now)
        outcome.new_lead_ids = [t.pk for t in new_targets]  # type: ignore[misc]
        self._save_touches_and_events(touches, events)
        # Score the chunk's new, changed and touched leads with the live profile (bulk).
        lead_score_refresh(
            [*outcome.new_lead_ids, *changed_targets, *(t[0].pk for t in touches)],
            reason="imported",
        )
        return outcome

    # --- writes ----------------------------------------------------------------------------
    def _save_leads(
        self,
        new_targets: list[_Target],
        changed_targets: dict[int, _Target],
        now: datetime,
    ) -> None:
        if new_targets:
            by_key = {_own_key(t.values): t for t in new_targets}
            returned = bulk_insert(
                Lead,
                [t.values for t in new_targets],
                returning=("id", "email_key", "external_source", "external_id"),
            )
            for pk, email, source, external_id in returned:
                by_key[
                    _own_key(
                        {"email_key": email, "external_source": source, "external_id": external_id}
                    )
                ].pk = pk
        if changed_targets:
            fields: set[str] = set()
            updates = []
            for target in changed_targets.values():
                lead = Lead(pk=target.pk)
                for name in target.changed:
                    setattr(lead, name, target.values[name])
                lead.version = target.values["version"] + 1
                lead.updated_at = now
                fields |= target.changed
                updates.append(lead)
            Lead.objects.bulk_update(
                updates, sorted(fields | {"version", "updated_at"}), batch_size=WRITE_BATCH // 2
            )

    def _save_touches_and_events(
        self,
        touches: list[tuple[_Target, MappedRow, int | None, str, datetime]],
        events: list[tuple[_Target, dict[str, Any]]],
    ) -> None:
        context = self.context
        kind = self.mapping.touch.kind if self.mapping.touch else ""
        rows = [
            {
                "lead_id": target.pk,
                "original_lead_id": target.pk,
                "campaign_id": campaign_id,
                "channel": row.record.source_channel or target.values["source_channel"],
                "kind": kind,
                "occurred_at": occurred,
                "idempotency_key": key,
                "data": {"via": "import", "import_job": context.job_id, "line": row.line},
            }
            for target, row, campaign_id, key, occurred in touches
        ]
        touch_ids = dict(
            (key, pk) for pk, key in bulk_insert(Touch, rows, returning=("id", "idempotency_key"))
        )
        label = TouchKind(kind).label if kind else ""
        timeline_events_bulk(
            _events(
                events,
                rows,
                touch_ids,
                label=label,
                actor=context.actor,
                file_name=context.file_name,
            ),
            batch_size=WRITE_BATCH,
        )


def _own_key(values: dict[str, Any]) -> tuple[str, ...]:
    if values.get("email_key"):
        return ("e", values["email_key"])
    return ("x", values["external_source"], values["external_id"])


def _events(
    events: list[tuple[_Target, dict[str, Any]]],
    touch_rows: list[dict[str, Any]],
    touch_ids: dict[str, int],
    *,
    label: str,
    actor: Any,
    file_name: str,
) -> Iterable[dict[str, Any]]:
    for target, event in events:
        yield {**event, "lead_id": target.pk, "actor": actor}
    for touch in touch_rows:
        yield {
            "lead_id": touch["lead_id"],
            "kind": TimelineEvent.Kind.TOUCH,
            "summary": f"{label} ({touch['channel']}), imported from {file_name}, line "
            f"{touch['data']['line']}",
            "occurred_at": touch["occurred_at"],
            "touch_id": touch_ids[touch["idempotency_key"]],
            "actor": actor,
            "data": {"via": "import", "channel": touch["channel"], "kind": touch["kind"]},
        }


def _name(target: _Target) -> str:
    return f"lead #{target.pk}" if target.pk else "a lead created earlier in this file"
