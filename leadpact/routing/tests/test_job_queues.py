"""Under Celery, routing jobs and long background jobs travel on separate queues, so a lead
waiting to be routed never waits behind a duplicate scan or a rescore run."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from config.celery import app
from leadpact.leads.tasks import duplicates_scan_pending_task, duplicates_scan_task
from leadpact.routing.tasks import route_leads_task, sla_sweep_task
from leadpact.scoring.tasks import fit_run_task, rescore_run_task


def _queue(task) -> str:
    return app.amqp.router.route({}, task.name)["queue"].name


@override_settings(LEADPACT_BACKGROUND_QUEUE="background")
def test_background_jobs_have_their_own_queue():
    default = app.conf.task_default_queue
    assert _queue(route_leads_task) == default
    assert _queue(sla_sweep_task) == default
    for task in (
        duplicates_scan_pending_task,
        duplicates_scan_task,
        rescore_run_task,
        fit_run_task,
    ):
        assert _queue(task) == "background"


@override_settings(LEADPACT_BACKGROUND_QUEUE="")
def test_without_a_background_queue_every_job_goes_to_the_default_queue():
    for task in (route_leads_task, duplicates_scan_pending_task, rescore_run_task):
        assert _queue(task) == app.conf.task_default_queue


def test_every_background_task_name_is_a_real_task():
    app.loader.import_default_modules()
    unknown = settings.LEADPACT_BACKGROUND_TASKS - set(app.tasks)
    assert not unknown, f"routed to the background queue but no such task: {unknown}"
