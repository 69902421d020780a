"""Run background jobs: Celery workers when a broker is configured, in-process otherwise.

Every job is a Celery task (``@shared_task``) that takes ids, reloads what it needs and calls
a service, so it is safe to run twice. ``enqueue`` is the one way to start one:

* ``CELERY_BROKER_URL`` set: the task is sent to the broker after the transaction commits;
* otherwise ``LEADPACT_JOBS=thread`` (default) runs it in a small in-process thread pool after
  commit, and ``LEADPACT_JOBS=sync`` runs it at once in the caller (tests, CLI).

The task body is the same code in all three cases.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from threading import Lock
from typing import Any

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=settings.LEADPACT_JOB_THREADS, thread_name_prefix="leadpact-job"
            )
        return _executor


def _run_in_thread(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    close_old_connections()
    try:
        task.apply(args=args, kwargs=kwargs, throw=True)
    except Exception:
        logger.exception("background job %s failed", task.name)
    finally:
        # The pool's threads sit idle between jobs: don't keep a database session open.
        connections.close_all()


def uses_broker() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """Start ``task(*args, **kwargs)`` in the background once the current transaction commits."""
    if uses_broker():
        transaction.on_commit(partial(task.apply_async, args=args, kwargs=kwargs))
    elif settings.LEADPACT_JOBS == "sync":
        transaction.on_commit(partial(task.apply, args=args, kwargs=kwargs, throw=True))
    else:
        transaction.on_commit(partial(_submit, task, args, kwargs))


def _submit(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Future[None]:
    return _pool().submit(_run_in_thread, task, args, kwargs)
