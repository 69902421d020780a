"""Background jobs run the same task code in-process and on a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings

from config.celery import app as celery_app
from leadpact.common import jobs
from leadpact.factories import LeadFactory
from leadpact.leads.models import DuplicateCandidate
from leadpact.leads.tasks import duplicates_scan_task

ROOT = Path(settings.BASE_DIR)


def _two_spellings_of_one_person() -> list[int]:
    a = LeadFactory(first_name="Jon", last_name="Smith", company_name="ACME, Inc.")
    b = LeadFactory(first_name="John", last_name="Smith", company_name="Acme")
    return [a.pk, b.pk]


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.django_db(transaction=True)
def test_in_process_thread_pool_runs_the_job_after_commit():
    with override_settings(LEADPACT_JOBS="thread", CELERY_BROKER_URL=None):
        with transaction.atomic():
            ids = _two_spellings_of_one_person()
            jobs.enqueue(duplicates_scan_task, ids)
            # Nothing runs before the transaction commits.
            assert not DuplicateCandidate.objects.exists()
        assert _wait_for(DuplicateCandidate.objects.exists, 20)


@pytest.mark.django_db(transaction=True)
def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs():
    with (
        override_settings(LEADPACT_JOBS="sync", CELERY_BROKER_URL=None),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        ids = _two_spellings_of_one_person()
        jobs.enqueue(duplicates_scan_task, ids)
        raise RuntimeError("boom")
    assert not DuplicateCandidate.objects.exists()


@pytest.fixture
def celery_worker_env():
    redis_url = os.environ.get("LEADPACT_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("LEADPACT_TEST_REDIS_URL is not set (.ci/run sets it to the local Redis)")
    if connection.vendor != "postgresql":
        pytest.skip("a separate worker process needs a shared database server (PostgreSQL)")
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    queue = f"test-{uuid.uuid4().hex[:8]}"
    background = f"{queue}-background"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "LEADPACT_BACKGROUND_QUEUE": background,
        "LEADPACT_SECRET_KEY": "tests-only-secret",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            f"{queue},{background}",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    previous = (celery_app.conf.broker_url, celery_app.conf.task_default_queue)
    celery_app.conf.broker_url = redis_url
    celery_app.conf.task_default_queue = queue
    try:
        with override_settings(LEADPACT_BACKGROUND_QUEUE=background):
            yield redis_url
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_default_queue = previous
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        if output:
            print(output.decode(errors="replace")[-3000:])


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_runs_the_same_task(celery_worker_env):
    with override_settings(CELERY_BROKER_URL=celery_worker_env):
        assert jobs.uses_broker()
        with transaction.atomic():
            ids = _two_spellings_of_one_person()
            jobs.enqueue(duplicates_scan_task, ids)
        assert _wait_for(DuplicateCandidate.objects.exists, 60), "the worker did not run the job"
    pair = DuplicateCandidate.objects.get()
    assert {pair.lead_a_id, pair.lead_b_id} == set(ids)
