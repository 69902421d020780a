"""Rescore runs: chunked, each chunk its own transaction, resumable, safe to run twice; and
scheduled versions going live at their effective date, exactly once."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.factories import LeadFactory
from leadpact.leads.models import Lead, TimelineEvent
from leadpact.scoring.models import LeadProfile, ProfileEvent, ProfileStatus, RescoreRun
from leadpact.scoring.selectors import profile_live
from leadpact.scoring.services import rescoring
from leadpact.scoring.services.profiles import (
    profile_go_live,
    profile_withdraw,
    profiles_go_live_due,
)
from leadpact.scoring.services.rescoring import (
    rescore_run_execute,
    rescore_run_periodic,
    rescore_run_step,
    rescore_runs_stale,
)
from leadpact.scoring.tasks import profiles_go_live_due_task, rescore_run_task
from leadpact.scoring.tests.pact import approved, live

pytestmark = pytest.mark.django_db
S = ProfileStatus
SCORE = TimelineEvent.Kind.SCORE_CHANGE


def _leads(n: int) -> list[int]:
    return [
        LeadFactory(source_channel="paid_search", attributes={"employees": 5}).pk for _ in range(n)
    ]


def _went_live(users) -> RescoreRun:
    _, run = profile_go_live(profile=approved(users), actor=users["marketing"])
    return run


def test_a_run_goes_chunk_by_chunk_and_resumes_where_it_stopped(users):
    ids = _leads(5)
    run = _went_live(users)
    run, result = rescore_run_execute(run_id=run.pk, chunk_size=2, max_chunks=1)
    assert (run.status, run.after_id, run.chunks, result.scored) == ("running", ids[1], 1, 2)
    assert sorted(Lead.objects.filter(score=510).values_list("pk", flat=True)) == ids[:2]
    run, result = rescore_run_execute(run_id=run.pk, chunk_size=2)  # a new worker resumes
    assert (run.status, run.scored, run.changed, run.chunks) == ("done", 5, 5, 3)
    assert result.scored == 3
    assert Lead.objects.filter(score=510).count() == 5
    done = ProfileEvent.objects.get(action="rescored")
    assert done.data["scored"] == 5 and done.data["chunks"] == 3


def test_running_a_finished_run_again_does_nothing(users):
    _leads(3)
    run = _went_live(users)
    rescore_run_task.apply(args=[run.pk], throw=True)
    again = rescore_run_task.apply(args=[run.pk], throw=True).get()
    assert again["status"] == "done" and again["scored"] == 0
    assert TimelineEvent.objects.filter(kind=SCORE).count() == 3
    assert ProfileEvent.objects.filter(action="rescored").count() == 1


def test_a_failed_chunk_is_rolled_back_and_the_run_resumes(users):
    ids = _leads(4)
    run = _went_live(users)
    boom = RuntimeError("disk full")
    with (
        mock.patch.object(rescoring, "timeline_events_bulk", side_effect=boom),
        pytest.raises(RuntimeError),
    ):
        rescore_run_execute(run_id=run.pk, chunk_size=2)
    run.refresh_from_db()
    assert run.status == "running" and run.after_id == 0 and run.scored == 0
    assert not Lead.objects.filter(score__gt=0).exists()  # nothing half-saved
    assert profile_live() is not None  # the switch stands
    run, _ = rescore_run_execute(run_id=run.pk, chunk_size=2)
    assert run.status == "done" and run.after_id == ids[-1]
    assert Lead.objects.filter(score=510).count() == 4


def test_a_chunk_another_worker_took_meanwhile_is_rolled_back(users):
    ids = _leads(4)
    run = _went_live(users)
    real = rescoring.touch_arrays

    def other_worker_first(*args, **kwargs):
        # Another worker moves the cursor (here in the same transaction, so it is rolled back
        # with the rest: what counts is that this worker's chunk is not kept).
        RescoreRun.objects.filter(pk=run.pk).update(after_id=ids[1])
        return real(*args, **kwargs)

    with mock.patch.object(rescoring, "touch_arrays", side_effect=other_worker_first):
        run_after, result = rescore_run_step(run_id=run.pk, chunk_size=2)
    assert result.scored == 0 and run_after.chunks == 0 and run_after.scored == 0
    assert not Lead.objects.filter(score__gt=0).exists()  # this worker's writes rolled back
    assert not TimelineEvent.objects.filter(kind=SCORE).exists()


def test_a_newer_live_version_supersedes_the_running_run(users):
    _leads(3)
    first = _went_live(users)
    second = _went_live(users)
    first.refresh_from_db()
    assert first.status == "superseded" and second.status == "running"
    run, result = rescore_run_execute(run_id=first.pk)
    assert run.status == "superseded" and result.scored == 0
    run, result = rescore_run_execute(run_id=second.pk)
    assert run.status == "done" and result.scored == 3


def test_the_hourly_rescore_lets_a_running_run_finish_and_resumes_stale_ones(users):
    _leads(2)
    run = _went_live(users)
    assert rescore_run_periodic() == run  # not cut short by a new run
    assert rescore_runs_stale() == []
    later = timezone.now() + timedelta(minutes=10)
    assert rescore_runs_stale(now=later) == [run.pk]
    rescore_run_execute(run_id=run.pk)
    started = rescore_run_periodic()
    assert started is not None and started != run and started.reason == "periodic rescore"


def test_without_a_live_profile_the_hourly_rescore_does_nothing(users):
    assert rescore_run_periodic() is None
    assert not RescoreRun.objects.exists()


# --- scheduled versions --------------------------------------------------------------------


def test_a_future_effective_date_schedules_and_the_job_puts_it_live_once(users):
    first = live(users)
    now = timezone.now()
    at = now + timedelta(hours=2)
    second, run = profile_go_live(
        profile=approved(users, threshold=600), actor=users["sales_manager"], effective_from=at
    )
    assert run is None and second.status == S.SCHEDULED and second.effective_from == at
    assert profile_live() == first
    assert profiles_go_live_due(now=now + timedelta(hours=1)) == []  # not yet
    assert profiles_go_live_due(now=at + timedelta(seconds=30)) == [second.version]
    assert profiles_go_live_due(now=at + timedelta(seconds=90)) == []  # exactly once
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == S.LIVE and second.effective_from == at
    assert first.status == S.RETIRED and first.effective_to == at
    assert ProfileEvent.objects.filter(profile=second, action="went_live").count() == 1
    assert RescoreRun.objects.get(status="running").profile == second


def test_the_periodic_task_twice_takes_a_due_version_live_once(users):
    live(users)
    second, _ = profile_go_live(
        profile=approved(users),
        actor=users["marketing"],
        effective_from=timezone.now() + timedelta(seconds=1),
    )
    with mock.patch("django.utils.timezone.now", return_value=second.effective_from):
        one = profiles_go_live_due_task.apply(throw=True).get()
        two = profiles_go_live_due_task.apply(throw=True).get()
    assert one["went_live"] == [second.version] and two["went_live"] == []
    assert LeadProfile.objects.filter(status=S.LIVE).get() == second
    assert ProfileEvent.objects.filter(action="went_live", profile=second).count() == 1


def test_two_due_versions_go_live_in_date_order(users):
    live(users)
    now = timezone.now()
    b, _ = profile_go_live(
        profile=approved(users), actor=users["marketing"], effective_from=now + timedelta(hours=2)
    )
    a, _ = profile_go_live(
        profile=approved(users), actor=users["marketing"], effective_from=now + timedelta(hours=1)
    )
    assert profiles_go_live_due(now=now + timedelta(hours=3)) == [a.version, b.version]
    a.refresh_from_db()
    assert profile_live() == b and a.status == S.RETIRED


def test_a_scheduled_version_can_be_withdrawn_and_past_dates_are_refused(users):
    live(users)
    profile = approved(users)
    with pytest.raises(ApplicationError, match="in the past"):
        profile_go_live(
            profile=profile,
            actor=users["marketing"],
            effective_from=timezone.now() - timedelta(days=1),
        )
    profile.refresh_from_db()
    assert profile.status == S.APPROVED
    profile_go_live(
        profile=profile,
        actor=users["marketing"],
        effective_from=timezone.now() + timedelta(days=1),
    )
    profile_withdraw(profile=profile, actor=users["sales_manager"], reason="not yet")
    profile.refresh_from_db()
    assert profile.status == S.DRAFT and profile.effective_from is None
    assert profiles_go_live_due(now=timezone.now() + timedelta(days=2)) == []


def test_pages_show_a_scheduled_version(client_for, users):
    live(users)
    profile = approved(users)
    url = reverse("scoring:action", args=[profile.pk, "live"])
    page = client_for("sales_manager").post(url, {"effective_from": "yesterday"}, follow=True)
    assert "not a date and time" in page.text
    at = timezone.localtime() + timedelta(days=3)
    page = client_for("sales_manager").post(
        url, {"effective_from": at.strftime("%Y-%m-%dT%H:%M")}, follow=True
    )
    assert "Scheduled: version 2 goes live at" in page.text
    profile.refresh_from_db()
    assert profile.status == S.SCHEDULED
    versions = client_for("sales_rep").get(reverse("scoring:versions")).text
    assert f"scheduled for {at.strftime('%Y-%m-%d %H:%M')}" in versions
    page = client_for("sales_rep").get(reverse("scoring:live")).text
    assert "Version 2 is scheduled to go live at" in page
    page = client_for("sales_rep").get(reverse("scoring:version", args=[profile.pk])).text
    assert "Scheduled: goes live at" in page
