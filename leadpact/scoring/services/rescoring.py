"""Scoring leads with the live profile, in bulk: selector → DataFrame → compiled scorecard →
bulk update of ``Lead.score``.

Only leads whose score changed are written, each with a SCORE_CHANGE timeline event that
carries its explanation (points per attribute, engagement). A new lead at or above the
threshold, or a recycled one whose score rose across it, becomes an MQL through the
lifecycle's bulk transition and is handed to routing.

Rescoring every open lead (going live, the periodic decay) is a ``RescoreRun``: a cursor over
lead ids advanced one chunk (``CHUNK_SIZE`` leads) at a time, each chunk read, scored, written
and the cursor moved in one transaction. A run that stops resumes where it was; two workers on
the same run never do a chunk twice (the run row is locked, and the cursor only moves with a
conditional ``UPDATE … WHERE after_id = <the value read>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from leadpact.common.jobs import enqueue
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.services.lifecycle import leads_mark_mql_bulk
from leadpact.leads.services.timeline import timeline_events_bulk
from leadpact.routing.tasks import route_leads_task
from leadpact.scoring.frames import (
    LeadRows,
    TouchArrays,
    lead_rows,
    lead_rows_by_id,
    lead_rows_of,
    open_leads,
    touch_arrays,
)
from leadpact.scoring.models import LeadProfile, ProfileEvent, ProfileStatus, RescoreRun
from leadpact.scoring.scores import ProfileScorer
from leadpact.scoring.selectors import profile_live, profile_live_for_scoring

#: Leads per chunk of a rescore run: one transaction and a few queries. A changed score is a
#: row UPDATE that touches every index of the lead table (about 0.4 ms a lead on PostgreSQL),
#: and the chunk's leads stay locked until it commits: 5,000 keeps that to a few seconds.
CHUNK_SIZE = 5_000
#: A running run whose cursor has not moved for this long lost its worker: it is resumed.
STALE_AFTER = timedelta(minutes=5)
R = RescoreRun.Status


@dataclass
class RescoreResult:
    scored: int = 0
    changed: int = 0
    became_mql: list[int] = field(default_factory=list)

    def add(self, other: RescoreResult) -> None:
        self.scored += other.scored
        self.changed += other.changed
        self.became_mql.extend(other.became_mql)


def _write_scores(ids: np.ndarray, scores: np.ndarray) -> None:
    """``UPDATE lead SET score = … WHERE id = …`` for many leads in one statement (PostgreSQL,
    from two arrays) or one prepared statement run many times (SQLite)."""
    table = connection.ops.quote_name(Lead._meta.db_table)
    column = connection.ops.quote_name(Lead._meta.get_field("score").column)
    pk = connection.ops.quote_name(Lead._meta.pk.column)
    ids_list, scores_list = ids.tolist(), scores.tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS t SET {column} = v.score "
                f"FROM unnest(%s::bigint[], %s::integer[]) AS v(id, score) WHERE t.{pk} = v.id",
                [ids_list, scores_list],
            )
        elif connection.vendor == "sqlite":
            cursor.executemany(
                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",
                list(zip(scores_list, ids_list, strict=True)),
            )
        else:  # pragma: no cover - the project runs on SQLite and PostgreSQL
            Lead.objects.bulk_update(
                [Lead(pk=i, score=s) for i, s in zip(ids_list, scores_list, strict=True)],
                ["score"],
                batch_size=1000,
            )


def _rescore_rows(
    rows: LeadRows,
    scorer: ProfileScorer,
    *,
    version: int,
    reason: str,
    now: datetime,
    touches: TouchArrays | None,
) -> RescoreResult:
    result = RescoreResult(scored=len(rows))
    if not len(rows):
        return result
    scored = scorer.score(rows, touches)
    changed = np.flatnonzero(scored.scores != rows.scores)
    result.changed = len(changed)
    if len(changed):
        ids = rows.ids[changed]
        old, new = rows.scores[changed], scored.scores[changed]
        _write_scores(ids, new)
        names = scorer.compiled.names
        base = scorer.compiled.base_points
        points = scored.fit_points[changed].astype(np.int64).tolist()
        engagement = np.round(scored.engagement[changed], 1).tolist()
        timeline_events_bulk(
            {
                "lead_id": lead_id,
                "kind": TimelineEvent.Kind.SCORE_CHANGE,
                "summary": f"Score {before} → {after} ({reason})",
                "data": {
                    "from": before,
                    "to": after,
                    "reason": reason,
                    "profile": version,
                    "base": base,
                    "points": dict(zip(names, row, strict=True)),
                    "engagement": eng,
                    "threshold": scorer.threshold,
                },
                "occurred_at": now,
            }
            for lead_id, before, after, row, eng in zip(
                ids.tolist(), old.tolist(), new.tolist(), points, engagement, strict=True
            )
        )
    t = scorer.threshold
    states = np.asarray(rows.states, dtype=object)
    crossing = (scored.scores >= t) & (
        (states == LeadState.NEW) | ((states == LeadState.RECYCLED) & (rows.scores < t))
    )
    candidates = rows.ids[crossing].tolist()
    if candidates:
        read = dict(zip(rows.ids.tolist(), rows.states, strict=True))
        result.became_mql = leads_mark_mql_bulk(
            candidates,
            reason=f"score reached {t} (profile v{version})",
            now=now,
            states={pk: read[pk] for pk in candidates},
        )
        if result.became_mql:
            enqueue(route_leads_task, result.became_mql)
    return result


# --- rescore runs: every open lead, chunk by chunk ------------------------------------------


def rescore_run_start(
    *, profile: LeadProfile, reason: str, now: datetime | None = None, background: bool = True
) -> RescoreRun:
    """Start rescoring every open lead with ``profile`` (in the caller's transaction): a
    running run is superseded, and (``background``) the job starts once the transaction
    commits."""
    from leadpact.scoring.tasks import rescore_run_task

    now = now or timezone.now()
    RescoreRun.objects.filter(status=R.RUNNING).update(
        status=R.SUPERSEDED, finished_at=now, updated_at=now
    )
    run = RescoreRun.objects.create(profile=profile, reason=reason[:200], as_of=now)
    if background:
        enqueue(rescore_run_task, run.pk)
    return run


class _ChunkTaken(Exception):
    """Another worker moved the cursor first: roll this chunk back."""


def rescore_run_step(
    *, run_id: int, chunk_size: int = CHUNK_SIZE
) -> tuple[RescoreRun, RescoreResult]:
    """Do the run's next chunk in one transaction. Safe to call twice at once: the second
    waits for the run's lock (PostgreSQL) or finds the cursor moved, and rolls back."""
    result = RescoreResult()
    try:
        with transaction.atomic():
            run = RescoreRun.objects.select_for_update().get(pk=run_id)
            if run.status != R.RUNNING:
                return run, result
            now = timezone.now()
            profile = LeadProfile.objects.get(pk=run.profile_id)
            if profile.status != ProfileStatus.LIVE:
                run.status, run.finished_at = R.SUPERSEDED, now
                run.save(update_fields=["status", "finished_at", "updated_at"])
                return run, result
            start = run.after_id
            rows = lead_rows(
                open_leads().filter(pk__gt=start).order_by("pk")[:chunk_size], captured=False
            )
            if len(rows):
                span = Q(lead_id__gt=start, lead_id__lte=int(rows.ids[-1]))
                touches = touch_arrays(rows, now=run.as_of, lead_filter=span, by_id=False)
                result = _rescore_rows(
                    rows,
                    ProfileScorer.for_profile(profile),
                    version=profile.version,
                    reason=run.reason,
                    now=run.as_of,
                    touches=touches,
                )
            finished = len(rows) < chunk_size
            claimed = RescoreRun.objects.filter(pk=run.pk, status=R.RUNNING, after_id=start).update(
                after_id=int(rows.ids[-1]) if len(rows) else start,
                chunks=F("chunks") + (1 if len(rows) else 0),
                scored=F("scored") + result.scored,
                changed=F("changed") + result.changed,
                became_mql=F("became_mql") + len(result.became_mql),
                status=R.DONE if finished else R.RUNNING,
                finished_at=now if finished else None,
                updated_at=now,
            )
            if not claimed:
                raise _ChunkTaken
            run.refresh_from_db()
            if finished:
                ProfileEvent.objects.create(
                    profile=profile,
                    action=ProfileEvent.Action.RESCORED,
                    data={
                        "reason": run.reason,
                        "scored": run.scored,
                        "changed": run.changed,
                        "became_mql": run.became_mql,
                        "chunks": run.chunks,
                    },
                    occurred_at=now,
                )
            return run, result
    except _ChunkTaken:
        return RescoreRun.objects.get(pk=run_id), RescoreResult()


def rescore_run_execute(
    *, run_id: int, chunk_size: int = CHUNK_SIZE, max_chunks: int | None = None
) -> tuple[RescoreRun, RescoreResult]:
    """Run chunks until the run is done or superseded (or ``max_chunks`` were done); returns
    the run and what this call did."""
    total = RescoreResult()
    done = 0
    while True:
        run, result = rescore_run_step(run_id=run_id, chunk_size=chunk_size)
        total.add(result)
        done += 1
        if run.status != R.RUNNING or (max_chunks is not None and done >= max_chunks):
            return run, total


def rescore_run_periodic(*, now: datetime | None = None) -> RescoreRun | None:
    """The hourly decay: keep going with a run that is still running (a going-live rescore is
    never cut short), or start one with the live profile. ``None`` without a live profile."""
    with transaction.atomic():
        running = RescoreRun.objects.select_for_update().filter(status=R.RUNNING).first()
        if running is not None:
            return running
        profile = profile_live()
        if profile is None:
            return None
        return rescore_run_start(profile=profile, reason="periodic rescore", now=now)


def rescore_runs_stale(*, now: datetime | None = None) -> list[int]:
    """Runs whose cursor has not moved for ``STALE_AFTER``: their worker was lost."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    return list(
        RescoreRun.objects.filter(status=R.RUNNING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )


def leads_rescore_all(
    *, profile: LeadProfile, reason: str, now: datetime | None = None
) -> RescoreResult:
    """Rescore every open lead with the live ``profile`` now, in the caller: a run started and
    executed to the end (a chunk per transaction). Returns what it did."""
    with transaction.atomic():
        run = rescore_run_start(profile=profile, reason=reason, now=now, background=False)
    _, result = rescore_run_execute(run_id=run.pk)
    return result


@transaction.atomic(savepoint=False)
def lead_score_refresh(
    lead_ids: Sequence[int],
    *,
    reason: str = "captured",
    now: datetime | None = None,
    leads: Sequence[Lead] | None = None,
    untouched: bool = False,
) -> RescoreResult:
    """Score these leads with the live profile (capture, import, new touches). No live
    profile yet: nothing to do. A few queries whatever the number of leads.

    A caller holding the leads as just saved (and locked, or not yet committed) passes them
    as ``leads`` instead of having them read again; ``untouched``: they have no touches yet
    (a lead created without one), so none are read. A failure rolls back the caller's
    transaction as a whole (no savepoint: capture scores inside its own transaction).
    """
    profile = profile_live_for_scoring()
    if profile is None or not (lead_ids or leads):
        return RescoreResult()
    now = now or timezone.now()
    rows = lead_rows_of(leads) if leads is not None else lead_rows_by_id(lead_ids)
    return _rescore_rows(
        rows,
        ProfileScorer.for_profile(profile),
        version=profile.version,
        reason=reason,
        now=now,
        touches=touch_arrays(rows, now=now) if not untouched else None,
    )
