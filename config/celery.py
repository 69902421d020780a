"""The Celery application; used by workers when CELERY_BROKER_URL is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("leadpact")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
