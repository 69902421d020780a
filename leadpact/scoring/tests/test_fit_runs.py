"""Fits in the background: checked before they are queued, run once, the draft or the reason
recorded, the person told, the uploaded history removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.notifications.models import Notification
from leadpact.scoring.models import FitRun, LeadProfile
from leadpact.scoring.services.fit_runs import (
    fit_run_execute,
    fit_run_start_csv,
    fit_run_start_history,
)
from leadpact.scoring.tests import synthetic

pytestmark = pytest.mark.django_db


def _history_file(rows: int = 300) -> SimpleUploadedFile:
    X, y = synthetic.leads(rows, seed=5)
    frame = X.drop(columns=["status_after_call"], errors="ignore").assign(converted=y)
    return SimpleUploadedFile("history.csv", frame.to_csv(index=False).encode(), "text/csv")


def test_a_csv_fit_runs_once_and_tells_who_asked(users, django_capture_on_commit_callbacks):
    marketer = users["marketing"]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        run = fit_run_start_csv(
            actor=marketer, upload=_history_file(), options={"outcome": "converted"}
        )
    path = Path(run.file_path)
    assert run.status == FitRun.Status.QUEUED and path.is_file() and len(queued) == 1
    done = fit_run_execute(run.pk)
    assert done.status == FitRun.Status.DONE and done.profile is not None
    assert done.profile.source == "file history.csv" and not path.exists()
    again = fit_run_execute(run.pk)  # a second worker, or the job run twice
    assert again.profile_id == done.profile_id and LeadProfile.objects.count() == 1
    note = Notification.objects.get(user=marketer)
    assert note.title == f"Draft version {done.profile.version} fitted from history.csv"
    assert note.url == reverse("scoring:version", args=[done.profile.pk])


def test_a_failed_fit_records_the_reason(users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = fit_run_start_history(actor=users["marketing"])
    run.refresh_from_db()
    assert run.status == FitRun.Status.FAILED and "No closed leads yet" in run.error
    assert not LeadProfile.objects.exists()
    note = Notification.objects.get(user=users["marketing"])
    assert note.title == "Could not fit a profile from your closed leads" and note.body == run.error


@pytest.mark.parametrize(
    ("options", "upload", "message"),
    [
        ({}, "file", "Name the outcome column"),
        ({"outcome": "converted"}, None, "Choose a history CSV file"),
        ({"outcome": "converted", "folds": 1}, "file", "Folds must be between 2 and 20"),
        ({"outcome": "converted", "colour": "red"}, "file", "Unknown fit setting(s): colour"),
        ({"outcome": "converted"}, "empty", "The history file is empty"),
    ],
)
def test_bad_fits_are_refused_before_they_are_queued(users, options, upload, message):
    files = {
        "file": _history_file(),
        "empty": SimpleUploadedFile("e.csv", b""),
        None: None,
    }
    with pytest.raises(ApplicationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_run_start_csv(actor=users["marketing"], upload=files[upload], options=options)
    assert not FitRun.objects.exists()


def test_reps_may_not_fit(users):
    with pytest.raises(PermissionDeniedError):
        fit_run_start_history(actor=users["sales_rep"])
    with pytest.raises(PermissionDeniedError):
        fit_run_start_csv(
            actor=users["sales_rep"], upload=_history_file(), options={"outcome": "converted"}
        )
    assert not FitRun.objects.exists()


def test_the_page_queues_the_fit_and_lists_it(
    client_for, users, django_capture_on_commit_callbacks
):
    client = client_for("marketing")
    with django_capture_on_commit_callbacks(execute=False):
        page = client.post(
            reverse("scoring:fit_csv"),
            {"history": _history_file(), "outcome": "converted"},
            follow=True,
        )
    assert "Fitting in the background" in page.text
    assert "waiting for a worker" in page.text and "history.csv" in page.text
    fit_run_execute(FitRun.objects.get().pk)
    page = client.get(reverse("scoring:versions"))
    drafted = LeadProfile.objects.get()
    link = f'<a href="{reverse("scoring:version", args=[drafted.pk])}">v{drafted.version}</a>'
    assert page.text.count(link) == 2  # in the versions table and as the fit's outcome


def test_a_fit_whose_worker_was_lost_is_closed_once(users, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from leadpact.scoring.services.fit_runs import STALE_AFTER, fit_runs_stale

    with django_capture_on_commit_callbacks(execute=False):
        run = fit_run_start_csv(
            actor=users["marketing"], upload=_history_file(), options={"outcome": "converted"}
        )
    started = timezone.now() - STALE_AFTER - timedelta(minutes=1)
    FitRun.objects.filter(pk=run.pk).update(status=FitRun.Status.RUNNING, started_at=started)
    assert fit_runs_stale() == [run.pk]
    assert fit_runs_stale() == []
    run.refresh_from_db()
    assert run.status == FitRun.Status.FAILED and "worker was lost" in run.error
    assert not Path(run.file_path).exists()
    assert Notification.objects.filter(user=users["marketing"]).count() == 1
    assert fit_run_execute(run.pk).status == FitRun.Status.FAILED  # a late worker does nothing


def test_a_fit_closed_as_lost_while_still_running_leaves_no_draft(
    users, django_capture_on_commit_callbacks, monkeypatch
):
    """The minute job closed the run (its worker looked lost) while the fit was still going:
    the late worker's draft rolls back, the run is not marked done and the worker tells no one
    (the minute job did). Here the closing happens in the worker's own transaction, so it
    rolls back with the draft; in production another process has committed it."""
    from leadpact.scoring.services import fit_runs

    with django_capture_on_commit_callbacks(execute=False):
        run = fit_run_start_csv(
            actor=users["marketing"], upload=_history_file(), options={"outcome": "converted"}
        )
    real_fit = fit_runs._fit

    def slow_fit(r):
        profile = real_fit(r)
        FitRun.objects.filter(pk=r.pk).update(status=FitRun.Status.FAILED, error="lost")
        return profile

    monkeypatch.setattr(fit_runs, "_fit", slow_fit)
    done = fit_run_execute(run.pk)
    assert done.status != FitRun.Status.DONE and done.profile_id is None
    assert not LeadProfile.objects.exists()
    assert not Notification.objects.filter(user=users["marketing"]).exists()
