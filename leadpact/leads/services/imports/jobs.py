"""The import page's state changes: upload a file, set its mapping and start, resume, save a
mapping. Each checks who may import; the work itself runs in ``runner`` as a background job."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from leadpact.accounts.roles import can_import
from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.common.jobs import enqueue
from leadpact.leads.models import ImportJob, ImportMapping
from leadpact.leads.services.imports.mapping import (
    ColumnMapping,
    mapping_from_dict,
    mapping_guess,
)
from leadpact.leads.services.imports.reader import CsvFile, ImportFileError
from leadpact.leads.services.imports.rows import RowMapper

UPLOAD_DIR = "imports/uploads"
_SAFE_NAME = re.compile(r"[^\w.\- ]+")


def _ensure_may_import(actor: Any) -> None:
    if not can_import(actor):
        raise PermissionDeniedError("Only marketing and revenue-operations admins import leads.")


def import_upload_create(
    *, upload: UploadedFile, actor: Any, mapping: ColumnMapping | None = None
) -> ImportJob:
    """Store an uploaded CSV file and open a draft job whose mapping the person then checks.

    The mapping starts from ``mapping`` (a saved or uploaded mapping file) or from a guess made
    from the header names.
    """
    _ensure_may_import(actor)
    limit = settings.LEADPACT_IMPORT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise ApplicationError(
            f"The file is {size:,} bytes; imports take at most {limit:,} bytes. Split it into "
            "smaller files, or import it from the command line (leadpact import leads FILE).",
            code="too_large",
            status=413,
        )
    if size == 0:
        raise ImportFileError("the file is empty")
    folder = Path(settings.MEDIA_ROOT) / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    digest = hashlib.sha256()
    written = 0
    with path.open("wb") as out:
        for block in upload.chunks():
            written += len(block)
            if written > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise ApplicationError(
                    f"The file is larger than {limit:,} bytes, the most an import takes.",
                    code="too_large",
                    status=413,
                )
            digest.update(block)
            out.write(block)
    encoding = mapping.encoding if mapping else "utf-8"
    try:
        with CsvFile(path, encoding=encoding, delimiter=mapping.delimiter if mapping else "") as f:
            headers = f.headers
    except ImportFileError:
        path.unlink(missing_ok=True)
        raise
    if not any(headers):
        path.unlink(missing_ok=True)
        raise ImportFileError("the first line of the file holds no column names")
    start = mapping or ColumnMapping(columns=mapping_guess(headers))
    name = _SAFE_NAME.sub("_", Path(upload.name or "import.csv").name)[:255] or "import.csv"
    return ImportJob.objects.create(
        created_by=actor,
        original_name=name,
        file_path=str(path),
        file_sha256=digest.hexdigest(),
        file_size=written,
        headers=headers,
        mapping=start.as_dict(),
        status=ImportJob.Status.DRAFT,
    )


def import_job_start(
    *, job: ImportJob, mapping: ColumnMapping, dry_run: bool, actor: Any
) -> ImportJob:
    """Fix the mapping of a draft job (checked against the file's header) and queue the run."""
    from leadpact.leads.tasks import import_job_task

    _ensure_may_import(actor)
    RowMapper(mapping, list(job.headers))  # missing columns → ImportFileError now, not later
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.DRAFT).update(
            mapping=mapping.as_dict(), dry_run=dry_run, status=ImportJob.Status.PENDING
        )
        if not updated:
            raise ConflictError("This import has already started.")
        enqueue(import_job_task, job.pk)
    job.refresh_from_db()
    return job


def import_job_reopen(*, job: ImportJob, actor: Any, force: bool = False) -> ImportJob:
    """Put a failed job back in the queue state so it resumes from its checkpoint.

    ``force`` also reopens a job still marked running (its process was killed outright).
    """
    if actor is not None:
        _ensure_may_import(actor)
    allowed = [ImportJob.Status.FAILED]
    if force:
        allowed.append(ImportJob.Status.RUNNING)
    if not Path(job.file_path).is_file():
        raise ApplicationError(
            f"The file of import {job.pk} ({job.original_name}) is gone; start a new import."
        )
    updated = ImportJob.objects.filter(pk=job.pk, status__in=allowed).update(
        status=ImportJob.Status.PENDING, error=""
    )
    if not updated:
        job.refresh_from_db()
        hint = " (use --force if its process was killed)" if job.status == "running" else ""
        raise ConflictError(
            f"Import {job.pk} is {job.get_status_display().lower()}; only a failed import "
            f"can be resumed{hint}."
        )
    job.refresh_from_db()
    return job


def import_job_resume(*, job: ImportJob, actor: Any) -> ImportJob:
    """Resume a failed job in the background (the page's "Resume" button)."""
    from leadpact.leads.tasks import import_job_task

    _ensure_may_import(actor)
    with transaction.atomic():
        job = import_job_reopen(job=job, actor=actor)
        enqueue(import_job_task, job.pk)
    return job


def import_mapping_save(*, name: str, mapping: ColumnMapping, actor: Any) -> ImportMapping:
    """Save (or replace) a named mapping for repeatable imports."""
    _ensure_may_import(actor)
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the mapping a name.")
    if len(name) > 100:
        raise ApplicationError("A mapping name is at most 100 characters.")
    mapping_from_dict(mapping.as_dict())  # round-trips: what is saved loads again
    saved, _ = ImportMapping.objects.update_or_create(
        name=name, defaults={"mapping": mapping.as_dict(), "created_by": actor}
    )
    return saved
