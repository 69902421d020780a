"""Likely duplicates: finding them, merging two leads into one, and undoing a merge.

Exact matches (same normalised e-mail or external id) are merged at capture and import; this
module handles the rest: pairs that look like the same person (``leads/matching.py`` scores
them), which a person then merges or dismisses. A merge deletes nothing: the duplicate keeps
its row, identity and timeline with ``merged_into`` pointing at the survivor, and the MERGE
event records exactly what moved so ``lead_unmerge`` can put it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from threading import Event, Lock
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from leadpact.campaigns.models import Touch
from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.common.jobs import enqueue
from leadpact.leads.matching import COLUMNS, likely_duplicate_pairs
from leadpact.leads.models import DuplicateCandidate, DuplicateScanQueue, Lead, TimelineEvent
from leadpact.leads.normalize import company_key, search_key
from leadpact.leads.policies import LeadAction, ensure_can_act
from leadpact.leads.records import (
    PROFILE_FIELDS,
    VISIBLE_CHANGE_FIELDS,
    LeadInput,
    block_keys,
    lead_changes,
)
from leadpact.leads.services.timeline import timeline_event

# Up to this many leads, a targeted scan loads only the leads sharing a block key with them;
# beyond it, loading every live lead's keys once is cheaper than many filtered queries.
TARGETED_SCAN_MAX = 500
_TARGET_CHUNK = 250  # keeps each IN list well below the database's parameter limits
_ATTRIBUTE_PREFIX = "attributes."

Status = DuplicateCandidate.Status


# --- following merges ------------------------------------------------------------------------


def survivor_ids(lead_ids: Iterable[int]) -> dict[int, int]:
    """Map each id to the live lead it ended up in (itself when never merged away).

    Follows ``merged_into`` one level per query for all ids at once, so the number of queries is
    the length of the longest chain, not the number of leads. Ids that do not exist are left out.
    """
    wanted = {int(i) for i in lead_ids}
    parent: dict[int, int | None] = {}
    frontier = set(wanted)
    while frontier:
        parent.update(Lead.objects.filter(pk__in=frontier).values_list("pk", "merged_into_id"))
        frontier = {p for p in parent.values() if p is not None and p not in parent}
    result: dict[int, int] = {}
    for origin in wanted & parent.keys():
        current, hops = origin, 0
        while parent.get(current) is not None and hops <= len(parent):  # no endless cycle
            current, hops = parent[current], hops + 1
        result[origin] = current
    return result


# --- finding likely duplicates ---------------------------------------------------------------


def duplicates_scan_enqueue(lead_ids: list[int]) -> None:
    """Look for likely duplicates of freshly captured or imported leads, after commit."""
    from leadpact.leads.tasks import duplicates_scan_task  # tasks imports this module

    ids = sorted({int(i) for i in lead_ids})
    if ids:
        enqueue(duplicates_scan_task, ids)


def duplicates_full_scan_enqueue() -> None:
    """Look for likely duplicates among every live lead (the page's "scan now" button)."""
    from leadpact.leads.tasks import duplicates_scan_task

    enqueue(duplicates_scan_task, None)


def duplicates_scan(*, lead_ids: list[int] | None = None) -> int:
    """Record likely duplicates of ``lead_ids`` (every live lead when ``None``); returns how many
    new candidate pairs were created.

    Merged-away leads are skipped (an id of one is followed to its survivor). A pair already
    known (open, dismissed or merged) is never recorded again, so running twice is harmless.
    """
    if lead_ids is None:
        targets = None
        frame = _lead_frame(Lead.objects.filter(merged_into__isnull=True))
    else:
        live = Lead.objects.filter(merged_into__isnull=True)
        targets = np.array(sorted(set(survivor_ids(lead_ids).values())), dtype=np.int64)
        if len(targets) == 0:
            return 0
        if len(targets) > TARGETED_SCAN_MAX:
            frame = _lead_frame(live)
        else:
            frame = _block_pool(live, targets)
    pairs = likely_duplicate_pairs(frame, targets=targets)
    if pairs.empty:
        return 0
    known = DuplicateCandidate.objects.all()
    if targets is not None:
        known = known.filter(Q(lead_a__in=targets.tolist()) | Q(lead_b__in=targets.tolist()))
    known_codes = {a * 2**32 + b for a, b in known.values_list("lead_a_id", "lead_b_id")}
    codes = pairs["lead_a"].to_numpy(np.int64) * 2**32 + pairs["lead_b"].to_numpy(np.int64)
    new = pairs[~np.isin(codes, np.fromiter(known_codes, np.int64, len(known_codes)))]
    DuplicateCandidate.objects.bulk_create(
        [
            DuplicateCandidate(
                lead_a_id=int(row.lead_a),
                lead_b_id=int(row.lead_b),
                similarity=float(row.similarity),
                reason=row.reason,
            )
            for row in new.itertuples(index=False)
        ],
        batch_size=1000,
        ignore_conflicts=True,  # a scan running at the same time found the pair first
    )
    return len(new)


def _lead_frame(queryset) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        list(queryset.order_by().values_list(*COLUMNS)), columns=list(COLUMNS)
    )


def _block_pool(live, targets: np.ndarray) -> pd.DataFrame:
    """The targets plus every live lead that shares a block key with one of them.

    The keys are the matcher's blocks, stored on the lead and indexed: company key, phone,
    ``name_block`` (folded last name | company initial) and ``email_local``. One query per
    chunk of targets, each key an ``IN`` list: an index lookup per key, however many leads.
    """
    frames = []
    key_columns = ("company_key", "phone", "name_block", "email_local")
    for start in range(0, len(targets), _TARGET_CHUNK):
        chunk = targets[start : start + _TARGET_CHUNK].tolist()
        condition = Q(pk__in=chunk)
        rows = live.filter(pk__in=chunk).order_by().values_list(*key_columns)
        for name, values in zip(key_columns, zip(*rows, strict=True), strict=True):
            wanted = sorted({v for v in values if v})
            if wanted:
                condition |= Q(**{f"{name}__in": wanted})
        frames.append(_lead_frame(live.filter(condition)))
    return pd.concat(frames, ignore_index=True).drop_duplicates("id", ignore_index=True)


# --- the queue of leads waiting for a scan ----------------------------------------------------

_drain_lock = Lock()
_drain_again = Event()
_DRAIN_LOCK_KEY = 7_401_550_001  # PostgreSQL advisory lock id of the pending-scan drain


def duplicates_scan_pending_enqueue() -> None:
    """After commit, scan every lead in the queue (``duplicates_scan_queue``).

    Many captures in a row make many of these jobs but few scans: a job scans everything
    queued at the time, in batches, and the jobs after it find little or nothing left.
    """
    from leadpact.leads.tasks import duplicates_scan_pending_task

    enqueue(duplicates_scan_pending_task)


def duplicates_scan_pending(*, batch: int = TARGETED_SCAN_MAX) -> int:
    """Scan the leads in the queue, ``batch`` at a time; returns how many new candidate pairs
    were created.

    Queue rows are deleted only after their scan, so a crash mid-scan means a scan again,
    never none. One drain at a time (see ``_drain_claim``): a job that finds one running asks
    it to go round once more and returns at once (the pool's threads stay free).
    """
    created = 0
    while True:
        with _drain_claim() as mine:
            if not mine:
                _drain_again.set()
                return created
            _drain_again.clear()
            created += _drain(batch)
        # Unlocked now. A job of another process that found the lock taken has returned and
        # left its leads queued (``_drain_again`` is per process): whatever is queued after
        # the lock is released is this drain's to scan, or the next holder's.
        if not _drain_again.is_set() and not DuplicateScanQueue.objects.exists():
            return created


@contextmanager
def _drain_claim() -> Iterator[bool]:
    """Whether this caller may drain now: one drain per process (a lock), and on PostgreSQL
    one among all processes (a session advisory lock), so two Celery worker processes never
    scan the same pending leads at once. A process that dies releases both."""
    if not _drain_lock.acquire(blocking=False):
        yield False
        return
    try:
        if connection.vendor != "postgresql":
            yield True
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_DRAIN_LOCK_KEY])
            mine = bool(cursor.fetchone()[0])
        try:
            yield mine
        finally:
            if mine:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [_DRAIN_LOCK_KEY])
    finally:
        _drain_lock.release()


def duplicates_scan_queue(lead_ids: Iterable[int]) -> None:
    """Put leads in the queue of the likely-duplicate scan (in the caller's transaction)."""
    DuplicateScanQueue.objects.bulk_create([DuplicateScanQueue(lead_id=pk) for pk in lead_ids])


def duplicates_rescan(lead_ids: Iterable[int]) -> None:
    """Leads whose matched fields changed: queue them and drain the queue after commit."""
    duplicates_scan_queue(lead_ids)
    duplicates_scan_pending_enqueue()


def _drain(batch: int) -> int:
    created = 0
    while True:
        rows = list(DuplicateScanQueue.objects.order_by("pk").values_list("pk", "lead_id")[:batch])
        if not rows:
            return created
        created += duplicates_scan(lead_ids=sorted({lead_id for _, lead_id in rows}))
        # Only the rows scanned leave: a lead queued again meanwhile (edited) is scanned again.
        DuplicateScanQueue.objects.filter(pk__in=[pk for pk, _ in rows]).delete()


# --- merging ---------------------------------------------------------------------------------


def _locked_pair(first_id: int, second_id: int) -> dict[int, Lead]:
    """Both leads under a row lock, taken in id order so two merges cannot deadlock."""
    rows = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk__in=[first_id, second_id])
        .order_by("pk")
    )
    return {lead.pk: lead for lead in rows}


def _ensure_live(lead: Lead) -> None:
    if lead.merged_into_id is not None:
        raise ConflictError(
            f"{lead.display_name} (#{lead.pk}) was already merged into lead "
            f"#{lead.merged_into_id}; merge or undo from that lead instead."
        )


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _from_json(name: str, value: Any) -> Any:
    field = Lead._meta.get_field(name.removesuffix("_id"))
    return None if value is None else field.to_python(value)


def _fill_changes(primary: Lead, duplicate: Lead) -> dict[str, tuple[Any, Any]]:
    """What the duplicate fills in on the primary: field → (old, new).

    The duplicate is merged as an incoming record through the shared rule (``lead_changes``)
    with only the values the primary lacks, so the primary's own values always win; the e-mail
    and external id stay on the duplicate (they remain its identity and lead to the survivor).
    """
    current = {f.attname: getattr(primary, f.attname) for f in Lead._meta.concrete_fields}
    record = LeadInput(
        captured_at=duplicate.captured_at,
        source_channel="" if duplicate.source_channel == "unknown" else duplicate.source_channel,
        source_detail=duplicate.source_detail,
    )
    for name in PROFILE_FIELDS:
        if not getattr(primary, name) and getattr(duplicate, name):
            setattr(record, name, getattr(duplicate, name))
    if not primary.phone:
        record.phone = duplicate.phone
    held = primary.attributes or {}
    record.attributes = {
        key: value
        for key, value in (duplicate.attributes or {}).items()
        if held.get(key) in (None, "") and value not in (None, "")
    }
    changes = lead_changes(current, record, campaign_id=duplicate.source_campaign_id)
    if primary.company_id is None and duplicate.company_id is not None:
        changes["company_id"] = (None, duplicate.company_id)
    return changes


def _recorded(changes: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """The visible changes as JSON: ``{"title": [old, new], "attributes.industry": [None, v]}``."""
    out: dict[str, list[Any]] = {}
    for name, (old, new) in changes.items():
        if name == "attributes":
            before = old or {}
            for key in sorted(k for k in new if before.get(k) != new[k]):
                out[_ATTRIBUTE_PREFIX + key] = [before.get(key), new[key]]
        elif name in VISIBLE_CHANGE_FIELDS or name == "company_id":
            out[name] = [_json(old), _json(new)]
    return out


def _field_list(recorded: dict[str, Any]) -> str:
    names = [n.removeprefix(_ATTRIBUTE_PREFIX).removesuffix("_id") for n in recorded]
    return ", ".join(n.replace("_", " ") for n in names)


def _pair_candidate(a_id: int, b_id: int) -> DuplicateCandidate | None:
    low, high = sorted((a_id, b_id))
    return DuplicateCandidate.objects.select_for_update().filter(lead_a=low, lead_b=high).first()


@transaction.atomic
def lead_merge(*, primary: Lead, duplicate: Lead, actor: Any) -> Lead:
    """Merge ``duplicate`` into ``primary``: the same person arrived twice.

    The duplicate's touches move to the primary, its values fill the primary's blanks, and it
    points at the primary from then on. Both timelines get a MERGE event recording exactly
    what moved, which ``lead_unmerge`` uses to put it back. Returns the updated primary.
    """
    if primary.pk == duplicate.pk:
        raise ApplicationError("A lead cannot be merged into itself.", code="same_lead")
    locked = _locked_pair(primary.pk, duplicate.pk)
    if len(locked) != 2:
        raise ApplicationError("One of the two leads no longer exists.", code="not_found")
    primary, duplicate = locked[primary.pk], locked[duplicate.pk]
    ensure_can_act(actor, primary, LeadAction.MERGE)
    ensure_can_act(actor, duplicate, LeadAction.MERGE)
    _ensure_live(primary)
    _ensure_live(duplicate)

    touches = Touch.objects.filter(lead=duplicate)
    touch_ids = sorted(touches.values_list("pk", flat=True))
    origin_set = sorted(touches.filter(original_lead__isnull=True).values_list("pk", flat=True))
    Touch.objects.filter(pk__in=origin_set).update(original_lead=duplicate)
    Touch.objects.filter(pk__in=touch_ids).update(lead=primary)

    changes = _fill_changes(primary, duplicate)
    for name, (_, new) in changes.items():
        setattr(primary, name, new)
    primary.version += 1
    primary.save(update_fields=[*changes, "version", "updated_at"])
    duplicate.merged_into = primary
    duplicate.version += 1
    duplicate.save(update_fields=["merged_into", "version", "updated_at"])

    now = timezone.now()
    recorded = _recorded(changes)
    data = {"primary": primary.pk, "duplicate": duplicate.pk, "touches": touch_ids}
    data |= {"original_lead_set": origin_set, "fields": recorded}
    summary = f"Merged in {duplicate.display_name} (#{duplicate.pk}): {len(touch_ids)} touch(es)"
    if recorded:
        summary += f"; filled {_field_list(recorded)}"
    _record_on_both(
        TimelineEvent.Kind.MERGE,
        primary,
        duplicate,
        summaries=(summary, f"Merged into {primary.display_name} (#{primary.pk})"),
        data=data,
        actor=actor,
        now=now,
    )

    decided = {"status": Status.MERGED, "decided_by": _user(actor), "decided_at": now}
    candidate = _pair_candidate(primary.pk, duplicate.pk)
    if candidate is None:
        low, high = sorted((primary.pk, duplicate.pk))
        DuplicateCandidate.objects.create(
            lead_a_id=low, lead_b_id=high, similarity=0.0, reason="merged by hand", **decided
        )
    else:
        for name, value in decided.items():
            setattr(candidate, name, value)
        candidate.save(update_fields=[*decided, "updated_at"])
    return primary


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def lead_unmerge(*, duplicate: Lead, actor: Any) -> Lead:
    """Undo the merge of ``duplicate``: its touches go back, the values it filled in on the
    primary are restored where the primary still holds them, and it becomes a lead of its own
    again. Returns the restored duplicate."""
    current = Lead.objects.filter(pk=duplicate.pk).values_list("merged_into_id", flat=True).first()
    if current is None:
        raise ConflictError(
            f"{duplicate.display_name} (#{duplicate.pk}) is not merged into a lead."
        )
    locked = _locked_pair(duplicate.pk, current)
    duplicate, primary = locked[duplicate.pk], locked.get(current)
    if primary is None or duplicate.merged_into_id != primary.pk:
        raise ConflictError("This merge changed while you were undoing it; reload and try again.")
    ensure_can_act(actor, duplicate, LeadAction.MERGE)
    ensure_can_act(actor, primary, LeadAction.MERGE)
    if primary.merged_into_id is not None:
        raise ConflictError(
            f"{primary.display_name} (#{primary.pk}) was itself merged into lead "
            f"#{primary.merged_into_id}; undo that merge first."
        )
    merge = (
        TimelineEvent.objects.filter(
            lead=duplicate,
            kind=TimelineEvent.Kind.MERGE,
            data__role="duplicate",
            data__primary=primary.pk,
        )
        .order_by("-occurred_at", "-id")
        .first()
    )
    data = merge.data if merge else {}

    touch_ids = sorted(
        Touch.objects.filter(pk__in=data.get("touches", []), lead=primary).values_list(
            "pk", flat=True
        )
    )
    Touch.objects.filter(pk__in=touch_ids).update(lead=duplicate)
    Touch.objects.filter(pk__in=data.get("original_lead_set", []), original_lead=duplicate).update(
        original_lead=None
    )

    restored, kept = _restore_fields(primary, data.get("fields", {}))
    duplicate.merged_into = None
    duplicate.version += 1
    duplicate.save(update_fields=["merged_into", "version", "updated_at"])

    now = timezone.now()
    event = {"primary": primary.pk, "duplicate": duplicate.pk, "touches": touch_ids}
    event |= {"fields": restored, "kept": kept}
    summary = f"{len(touch_ids)} touch(es) back"
    if restored:
        summary += f"; restored {_field_list(restored)}"
    _record_on_both(
        TimelineEvent.Kind.UNMERGE,
        primary,
        duplicate,
        summaries=(
            f"Merge of {duplicate.display_name} (#{duplicate.pk}) undone: {summary}",
            f"No longer merged into {primary.display_name} (#{primary.pk}): {summary}",
        ),
        data=event,
        actor=actor,
        now=now,
    )
    candidate = _pair_candidate(primary.pk, duplicate.pk)
    if candidate is not None and candidate.status == Status.MERGED:
        # Back in the queue: whoever undid it decides again (merge the other way, or dismiss).
        candidate.status, candidate.decided_by, candidate.decided_at = Status.OPEN, None, None
        candidate.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return duplicate


def _restore_fields(
    primary: Lead, recorded: dict[str, list[Any]]
) -> tuple[dict[str, list[Any]], list[str]]:
    """Put back the primary's values the merge filled in, where it still holds them.

    Returns what was restored (``field: [merged value, restored value]``) and the fields that
    were left alone because they changed after the merge.
    """
    restored: dict[str, list[Any]] = {}
    kept: list[str] = []
    attributes = dict(primary.attributes or {})
    for name, (old, new) in recorded.items():
        if name.startswith(_ATTRIBUTE_PREFIX):
            key = name.removeprefix(_ATTRIBUTE_PREFIX)
            if key in attributes and attributes[key] == new:
                if old is None:
                    del attributes[key]
                else:
                    attributes[key] = old
                restored[name] = [new, old]
            else:
                kept.append(name)
            continue
        if getattr(primary, name) == _from_json(name, new):
            setattr(primary, name, _from_json(name, old))
            restored[name] = [new, old]
        else:
            kept.append(name)
    if not restored:
        return restored, kept
    fields = [n for n in restored if not n.startswith(_ATTRIBUTE_PREFIX)]
    if len(fields) != len(restored):
        primary.attributes = attributes
        fields.append("attributes")
    primary.search_key = search_key(primary.first_name, primary.last_name)
    primary.company_key = company_key(primary.company_name)
    keys = block_keys(primary.last_name, primary.company_key, primary.email_key)
    for name, value in keys.items():
        setattr(primary, name, value)
    primary.version += 1
    primary.save(
        update_fields=[*fields, "search_key", "company_key", *keys, "version", "updated_at"]
    )
    return restored, kept


# --- dismissing ------------------------------------------------------------------------------


@transaction.atomic
def duplicate_dismiss(*, candidate: DuplicateCandidate, actor: Any) -> DuplicateCandidate:
    """Record that the two leads of ``candidate`` are different people; the scan won't suggest
    the pair again."""
    locked = (
        DuplicateCandidate.objects.select_for_update(of=("self",))
        .select_related("lead_a__owner", "lead_b__owner", "decided_by")
        .filter(pk=candidate.pk)
        .first()
    )
    if locked is None:
        raise ApplicationError("This duplicate suggestion no longer exists.", code="not_found")
    ensure_can_act(actor, locked.lead_a, LeadAction.MERGE)
    ensure_can_act(actor, locked.lead_b, LeadAction.MERGE)
    if locked.status != Status.OPEN:
        by = f" by {locked.decided_by}" if locked.decided_by else ""
        raise ConflictError(f"This pair was already {locked.get_status_display().lower()}{by}.")
    locked.status, locked.decided_by, locked.decided_at = (
        Status.DISMISSED,
        _user(actor),
        timezone.now(),
    )
    locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return locked


def _record_on_both(
    kind: str,
    primary: Lead,
    duplicate: Lead,
    *,
    summaries: tuple[str, str],
    data: dict[str, Any],
    actor: Any,
    now: datetime,
) -> None:
    """A merge or its undoing, on the timeline of both leads, each told its role."""
    for lead, role, summary in (
        (primary, "primary", summaries[0]),
        (duplicate, "duplicate", summaries[1]),
    ):
        timeline_event(
            lead=lead,
            kind=kind,
            summary=summary,
            actor=actor,
            data={"role": role, **data},
            occurred_at=now,
        )
