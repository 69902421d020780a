import pytest
from celery import shared_task
from django.test import override_settings

from leadpact.common.scheduler import periodic_jobs, run_due, start_in_process_scheduler

calls: list[str] = []


@shared_task(name="leadpact.tests.tick")
def tick() -> None:
    calls.append("tick")


SCHEDULE = {
    "tick": {"task": "leadpact.tests.tick", "schedule": 60.0},
    "nightly": {"task": "leadpact.tests.tick", "schedule": "not-a-number"},
}


@override_settings(CELERY_BEAT_SCHEDULE=SCHEDULE)
def test_due_jobs_run_once_per_interval():
    calls.clear()
    jobs = periodic_jobs()
    assert [job.name for job in jobs] == ["tick"]
    assert run_due(jobs, now=1000.0) == ["tick"]
    assert run_due(jobs, now=1030.0) == []
    assert run_due(jobs, now=1060.0) == ["tick"]
    assert calls == ["tick", "tick"]


@override_settings(CELERY_BEAT_SCHEDULE=SCHEDULE, CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
def test_with_a_broker_beat_does_the_work():
    assert start_in_process_scheduler() is None


@pytest.mark.django_db
def test_the_project_schedule_has_the_sla_sweep():
    assert "leadpact.routing.sla_sweep" in {job.task for job in periodic_jobs()}
