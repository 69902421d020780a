"""Background jobs of the leads app: each takes ids, calls a service and is safe to run twice."""

from __future__ import annotations

from contextlib import suppress

from celery import shared_task

from leadpact.leads.services.dedupe import duplicates_scan, duplicates_scan_pending


@shared_task(name="leads.duplicates_scan")
def duplicates_scan_task(lead_ids: list[int] | None = None) -> int:
    """Look for likely duplicates of ``lead_ids`` (all leads when ``None``).

    Safe to run twice: pairs already found, dismissed or merged are skipped.
    """
    return duplicates_scan(lead_ids=lead_ids)


@shared_task(name="leads.duplicates_scan_pending")
def duplicates_scan_pending_task() -> int:
    """Scan the leads waiting for a likely-duplicate scan (captured or edited since).

    Safe to run twice or at once: a lead leaves the queue only once it has been scanned.
    """
    return duplicates_scan_pending()


@shared_task(name="leads.import_job_run")
def import_job_task(job_id: int) -> None:
    """Run a queued CSV import. Safe to run twice: only a job still waiting is claimed, and a
    failure is recorded on the job (its page offers to resume it), not raised again."""
    from leadpact.leads.services.imports import ImportFailed, import_job_run

    with suppress(ImportFailed):
        import_job_run(job_id)
