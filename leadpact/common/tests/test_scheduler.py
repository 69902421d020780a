import os
import subprocess
import sys

from celery import shared_task
from django.conf import settings
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


FRESH_PROCESS_CHECK = """
import django
django.setup()
from celery import current_app
from leadpact.common.scheduler import periodic_jobs
tasks = {job.task for job in periodic_jobs()}
assert "leadpact.routing.sla_sweep" in tasks, tasks
missing = sorted(t for t in tasks if t not in current_app.tasks)
assert not missing, f"scheduled but not registered: {missing}"
"""


def test_every_scheduled_task_is_found_in_a_fresh_web_process():
    """A web process has imported no tasks module yet: the scheduler must load them."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS_CHECK],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
