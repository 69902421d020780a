"""Fitting a draft in the background (``FitRun``): start a fit (what can be checked at once is,
and an uploaded history is kept until the fit is done), run it once, and tell the person who
asked how it went. The fit itself is ``services/fitting.py``; the command line
(``leadpact scoring fit``) still fits in the foreground."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.common.jobs import enqueue
from leadpact.notifications.services import NotificationInput, notify
from leadpact.scoring.models import FitRun, LeadProfile
from leadpact.scoring.roles import can_edit_profile
from leadpact.scoring.services.fitting import (
    MAX_UPLOAD_BYTES,
    fit_settings_check,
    profile_fit_from_csv,
    profile_fit_from_history,
)

logger = logging.getLogger(__name__)
UPLOAD_DIR = "fits"
#: A fit still "running" after this long lost its worker (a fit of 500k rows takes minutes).
STALE_AFTER = timedelta(minutes=30)
#: The options each source takes (anything else in ``options`` is refused).
HISTORY_OPTIONS = {"folds", "peers", "max_attributes", "exclude"}
CSV_OPTIONS = HISTORY_OPTIONS | {"outcome", "positive", "missing", "keep", "date_column"}


def _check(actor: User, options: dict[str, Any], allowed: set[str]) -> None:
    if not can_edit_profile(actor):
        raise PermissionDeniedError("Only marketing or an admin may fit a lead profile.")
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ApplicationError(f"Unknown fit setting(s): {', '.join(unknown)}.")
    fit_settings_check(int(options.get("folds", 5)), int(options.get("max_attributes", 12)))


def _queued(run: FitRun) -> FitRun:
    from leadpact.scoring.tasks import fit_run_task

    enqueue(fit_run_task, run.pk)
    return run


@transaction.atomic
def fit_run_start_history(*, actor: User, options: dict[str, Any] | None = None) -> FitRun:
    """Queue a fit from the system's own closed leads."""
    options = dict(options or {})
    _check(actor, options, HISTORY_OPTIONS)
    return _queued(
        FitRun.objects.create(source=FitRun.Source.HISTORY, actor=actor, options=options)
    )


@transaction.atomic
def fit_run_start_csv(
    *, actor: User, upload: UploadedFile | None, options: dict[str, Any]
) -> FitRun:
    """Keep the uploaded history and queue a fit from it. The outcome column must be named and
    the file no larger than 50 MB; both are refused now rather than minutes later."""
    options = dict(options)
    _check(actor, options, CSV_OPTIONS)
    if upload is None:
        raise ApplicationError("Choose a history CSV file.")
    if not str(options.get("outcome") or "").strip():
        raise ApplicationError("Name the outcome column (won/lost).")
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        raise ApplicationError("The history file is larger than 50 MB.")
    if not upload.size:
        raise ApplicationError("The history file is empty.")
    folder = Path(settings.MEDIA_ROOT) / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as out:
        for block in upload.chunks():
            out.write(block)
    try:
        run = FitRun.objects.create(
            source=FitRun.Source.CSV,
            actor=actor,
            options=options,
            file_path=str(path),
            file_name=Path(upload.name or "history.csv").name[:255],
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return _queued(run)


def _fit(run: FitRun) -> LeadProfile:
    assert run.actor is not None
    if run.source == FitRun.Source.HISTORY:
        return profile_fit_from_history(actor=run.actor, **run.options)
    with Path(run.file_path).open("rb") as upload:
        return profile_fit_from_csv(
            actor=run.actor, upload=upload, file_name=run.file_name, **run.options
        )


class _ClosedMeanwhile(Exception):
    """The run was closed (its worker presumed lost) while this worker was still fitting."""


def _finish(run: FitRun, **outcome: Any) -> bool:
    """Record the outcome, only if the run is still this worker's (running)."""
    now = timezone.now()
    return bool(
        FitRun.objects.filter(pk=run.pk, status=FitRun.Status.RUNNING).update(
            **outcome, finished_at=now, updated_at=now
        )
    )


def fit_run_execute(run_id: int) -> FitRun:
    """Run a queued fit once (a second call, or a second worker, finds it claimed and does
    nothing): the new draft, or the reason it could not be fitted, is recorded, the uploaded
    file removed and the person notified. The draft and the run's outcome commit together,
    and only while the run is still running: a fit that outlived ``STALE_AFTER`` and was closed
    meanwhile leaves no draft and sends no second notification."""
    now = timezone.now()
    claimed = FitRun.objects.filter(pk=run_id, status=FitRun.Status.QUEUED).update(
        status=FitRun.Status.RUNNING, started_at=now, updated_at=now
    )
    run = FitRun.objects.select_related("actor").get(pk=run_id)
    if not claimed:
        return run
    error, finished = "", False
    try:
        if run.actor is None:
            raise ApplicationError("The person who asked for this fit no longer exists.")
        with transaction.atomic():
            profile = _fit(run)
            if not _finish(run, status=FitRun.Status.DONE, profile=profile):
                raise _ClosedMeanwhile
        finished = True
    except _ClosedMeanwhile:
        pass  # the draft rolled back; the person was told when the run was closed
    except (ApplicationError, PermissionDeniedError) as exc:
        error = exc.message
    except Exception:  # recorded, not retried: the same input would fail the same way
        logger.exception("fit run %s failed", run.pk)
        error = "The fit stopped on an unexpected error (logged for the admins)."
    finally:
        if run.file_path:
            Path(run.file_path).unlink(missing_ok=True)
    if error:
        finished = _finish(run, status=FitRun.Status.FAILED, error=error)
    run.refresh_from_db()
    if finished and run.actor is not None:
        _tell(run)
    return run


def _tell(run: FitRun) -> None:
    assert run.actor is not None
    source = "your closed leads" if run.source == FitRun.Source.HISTORY else run.file_name
    if run.profile is not None:
        title = f"Draft version {run.profile.version} fitted from {source}"
        body = "Review its points and validation report, then propose it."
        url = reverse("scoring:version", args=[run.profile.pk])
    else:
        title = f"Could not fit a profile from {source}"
        body = run.error
        url = reverse("scoring:versions")
    notify(
        [
            NotificationInput(
                user_id=run.actor.pk, kind="profile_fit", title=title, body=body, url=url
            )
        ]
    )


def fit_runs_stale(*, now: datetime | None = None) -> list[int]:
    """Fits whose worker was lost (running for longer than ``STALE_AFTER``): marked failed,
    their file removed and the person told, so a fit never sits "running" for ever."""
    now = now or timezone.now()
    stale = list(
        FitRun.objects.filter(
            status=FitRun.Status.RUNNING, started_at__lt=now - STALE_AFTER
        ).select_related("actor")
    )
    closed: list[int] = []
    for run in stale:
        updated = FitRun.objects.filter(pk=run.pk, status=FitRun.Status.RUNNING).update(
            status=FitRun.Status.FAILED,
            error="The fit stopped (its worker was lost); start it again.",
            finished_at=now,
            updated_at=now,
        )
        if not updated:
            continue
        closed.append(run.pk)
        run.refresh_from_db()
        if run.file_path:
            Path(run.file_path).unlink(missing_ok=True)
        if run.actor is not None:
            _tell(run)
    return closed
