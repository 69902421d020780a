"""The Celery application; used by workers when CELERY_BROKER_URL is set."""

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("leadpact")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any):
    """``CELERY_TASK_ROUTES``: long, non-urgent jobs (``LEADPACT_BACKGROUND_TASKS``) go to the
    background queue; everything else to the default queue. Read at each send, so a test or
    a benchmark can name its own queues with ``override_settings``."""
    from django.conf import settings

    queue = settings.LEADPACT_BACKGROUND_QUEUE
    if queue and name in settings.LEADPACT_BACKGROUND_TASKS:
        return {"queue": queue}
    return None
