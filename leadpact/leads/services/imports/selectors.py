"""Reads of the import pages: past jobs and saved mappings."""

from __future__ import annotations

from django.db.models import QuerySet

from leadpact.leads.models import ImportJob, ImportMapping


def import_job_list(*, limit: int = 50) -> list[ImportJob]:
    return list(
        ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")[:limit]
    )


def import_job_get(*, job_id: int) -> ImportJob:
    """Raises ``ImportJob.DoesNotExist``."""
    return ImportJob.objects.select_related("created_by").get(pk=job_id)


def import_mapping_list() -> QuerySet[ImportMapping]:
    return ImportMapping.objects.order_by("name")
