"""Running an import: stream the file, one transaction per chunk, a checkpoint in each.

``import_file`` is the one entry point for the CLI, the page's background job (through
``import_job_run``) and the benchmark. Each chunk of rows is validated, written and recorded
as processed (``ImportJob.processed_rows``, the counters, the committed length of the report)
in ONE transaction, so a failure midway leaves only whole chunks behind.

Resuming: a failed job keeps its checkpoint. ``leadpact import resume JOB_ID`` (or "Resume" on
the job's page) reads the file again from the top, skips the ``processed_rows`` rows already
committed (re-hashing them, so an exact repeat of a row before the checkpoint is still found)
and carries on; the database ends exactly as if the import had never stopped. The file must
be unchanged (its SHA-256 is checked). A dry run writes nothing, so it restarts from the top.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.leads.models import ImportJob
from leadpact.leads.services.dedupe import duplicates_scan_enqueue
from leadpact.leads.services.imports.mapping import ColumnMapping, as_mapping, mapping_from_dict
from leadpact.leads.services.imports.reader import CsvFile, CsvRow, ImportFileError, file_scan
from leadpact.leads.services.imports.report import RejectReport, report_path_for
from leadpact.leads.services.imports.rows import MappedRow, RejectedRow, RowMapper
from leadpact.leads.services.imports.seen import SeenRows, fingerprint
from leadpact.leads.services.imports.writer import ChunkOutcome, ChunkWriter, ImportContext

logger = logging.getLogger(__name__)

CHUNK_SIZE = 5000
BUSY_RETRIES = 4


class ImportFailed(ApplicationError):
    """The import stopped; the job records why and how far it got."""

    def __init__(self, message: str, *, job_id: int) -> None:
        super().__init__(message, code="import_failed", extra={"job_id": job_id})
        self.job_id = job_id


@dataclass
class ImportResult:
    job_id: int
    status: str
    dry_run: bool
    rows: int
    created: int
    merged: int
    unchanged: int
    duplicates: int
    rejected: int
    report_path: str
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rows_per_second: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_file(
    path: str | Path,
    mapping: ColumnMapping | dict[str, Any] | str | Path,
    *,
    actor: Any = None,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    original_name: str = "",
) -> ImportResult:
    """Import a CSV file of leads now, in this process; raises ``ApplicationError`` subclasses
    (``MappingError``, ``ImportFileError``, ``ImportFailed``) with a one-line message."""
    parsed = as_mapping(mapping)
    path = Path(path)
    if not path.exists():
        raise ImportFileError(f"file not found: {path}")
    if not path.is_file():
        raise ImportFileError(f"{path} is not a file")
    job = ImportJob.objects.create(
        created_by=actor if getattr(actor, "pk", None) else None,
        original_name=(original_name or path.name)[:255],
        file_path=str(path.resolve()),
        file_size=path.stat().st_size,
        mapping=parsed.as_dict(),
        dry_run=dry_run,
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
    )
    return _run(job, chunk_size=chunk_size)


def import_job_run(job_id: int, *, chunk_size: int = CHUNK_SIZE) -> ImportResult | None:
    """Run a queued job (``PENDING``); ``None`` when another worker already took it."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), error=""
    )
    if not claimed:
        return None
    return _run(ImportJob.objects.get(pk=job_id), chunk_size=chunk_size)


def import_result(job: ImportJob, *, rows: int | None = None, seconds: float = 0.0) -> ImportResult:
    """The outcome of a job as the CLI and the page show it."""
    done = job.processed_rows if rows is None else rows
    return ImportResult(
        job_id=job.pk,
        status=job.status,
        dry_run=job.dry_run,
        rows=job.processed_rows,
        created=job.created_count,
        merged=job.merged_count,
        unchanged=job.unchanged_count,
        duplicates=job.duplicate_count,
        rejected=job.rejected_count,
        report_path=job.report_path,
        ignored_columns=list(job.ignored_columns or []),
        seconds=round(seconds or job.seconds, 3),
        rows_per_second=round(done / seconds, 1) if seconds else 0.0,
    )


class _Run:
    """One pass over the file for one job."""

    def __init__(self, job: ImportJob, mapping: ColumnMapping, chunk_size: int) -> None:
        self.job = job
        self.mapping = mapping
        self.chunk_size = max(1, chunk_size)
        self.seen = SeenRows()
        self.rows_this_run = 0
        self.new_lead_ids: list[int] = []

    def execute(self) -> None:
        job, mapping = self.job, self.mapping
        path = Path(job.file_path)
        if not path.is_file():
            raise ImportFileError(
                f"the file of this import is gone ({job.original_name}); upload it again"
            )
        scan = file_scan(path, mapping.encoding)
        if job.file_sha256 and job.file_sha256 != scan.sha256 and job.processed_rows:
            raise ImportFileError(
                "the file changed since this import started, so it cannot be resumed; "
                "start a new import"
            )
        if job.dry_run and job.processed_rows:
            _reset_progress(job)
        with CsvFile(path, encoding=mapping.encoding, delimiter=mapping.delimiter) as csv_file:
            mapper = RowMapper(mapping, csv_file.headers)
            report_path = report_path_for(job.pk)
            ImportJob.objects.filter(pk=job.pk).update(
                file_sha256=scan.sha256,
                file_size=scan.size,
                headers=csv_file.headers,
                ignored_columns=mapper.ignored,
                report_path=str(report_path),
            )
            job.refresh_from_db()
            report = RejectReport(report_path, csv_file.headers, keep_bytes=job.report_bytes)
            try:
                self._rows(csv_file, mapper, report)
            finally:
                report.close()
                # One likely-duplicate scan for everything this run created (also after a
                # failure: those chunks are committed), not one per chunk: each scan reads
                # every live lead.
                duplicates_scan_enqueue(self.new_lead_ids)

    def _rows(self, csv_file: CsvFile, mapper: RowMapper, report: RejectReport) -> None:
        job = self.job
        context = ImportContext(
            mapping=self.mapping,
            job_id=job.pk,
            file_name=job.original_name,
            actor=job.created_by,
            dry_run=job.dry_run,
        )
        writer = ChunkWriter(context)
        skip = job.processed_rows
        count = 0
        pending: list[CsvRow] = []
        skipped: list[CsvRow] = []
        for row in csv_file.rows():
            count += 1
            if count <= skip:  # resuming: committed already, but remember them for repeats
                skipped.append(row)
                if len(skipped) >= self.chunk_size or count == skip:
                    self._remember(skipped)
                    skipped = []
                continue
            pending.append(row)
            if len(pending) >= self.chunk_size:
                self._chunk(pending, count, mapper, writer, report)
                pending = []
        if pending:
            self._chunk(pending, count, mapper, writer, report)

    def _remember(self, rows: list[CsvRow]) -> list[int]:
        """For each row, the line of an earlier exact repeat (0: none); remembers new rows."""
        readable = [r for r in rows if not r.error]
        found = self.seen.check_and_add(
            [fingerprint(r.cells) for r in readable], [r.line for r in readable]
        )
        earlier = dict(zip((r.line for r in readable), found, strict=True))
        return [earlier.get(r.line, 0) for r in rows]

    def _chunk(
        self,
        rows: list[CsvRow],
        count: int,
        mapper: RowMapper,
        writer: ChunkWriter,
        report: RejectReport,
    ) -> None:
        mapped: list[MappedRow] = []
        rejected: list[RejectedRow] = []
        duplicates = 0
        for row, first in zip(rows, self._remember(rows), strict=True):
            if first:
                rejected.append(
                    RejectedRow(row.line, f"duplicate: same as line {first}", row.cells)
                )
                duplicates += 1
                continue
            result = mapper.map(row)
            if isinstance(result, MappedRow):
                mapped.append(result)
            else:
                rejected.append(result)
        outcome = self._commit(rows, count, mapped, rejected, duplicates, writer, report)
        if outcome.identities:
            writer.context.seen_identities.check_and_add(
                outcome.identities, [1] * len(outcome.identities)
            )
        self.rows_this_run += len(rows)
        self.new_lead_ids.extend(outcome.new_lead_ids)

    def _commit(
        self,
        rows: list[CsvRow],
        count: int,
        mapped: list[MappedRow],
        rejected: list[RejectedRow],
        duplicates: int,
        writer: ChunkWriter,
        report: RejectReport,
    ) -> ChunkOutcome:
        """Write the chunk and its checkpoint in one transaction; retried when the database
        was only busy (SQLite's lock timeout, a PostgreSQL deadlock), since nothing of a
        rolled-back attempt remains."""
        for attempt in range(1, BUSY_RETRIES + 1):
            report_start = report.size
            try:
                with transaction.atomic():
                    outcome = writer.write(mapped)
                    report.add(rejected + outcome.rejected)
                    ImportJob.objects.filter(pk=self.job.pk).update(
                        processed_rows=count,
                        processed_bytes=rows[-1].end,
                        created_count=F("created_count") + outcome.created,
                        merged_count=F("merged_count") + outcome.merged,
                        unchanged_count=F("unchanged_count") + outcome.unchanged,
                        rejected_count=F("rejected_count")
                        + len(rejected)
                        - duplicates
                        + len(outcome.rejected),
                        duplicate_count=F("duplicate_count") + duplicates,
                        report_bytes=report.size,
                        updated_at=timezone.now(),
                    )
                return outcome
            except OperationalError as exc:
                report.truncate(report_start)
                if attempt == BUSY_RETRIES or not _busy(exc):
                    raise
                logger.warning("import %s: database busy, retrying the chunk", self.job.pk)
                time.sleep(attempt)
        raise AssertionError("unreachable")


def _busy(exc: OperationalError) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("locked", "busy", "deadlock", "could not serialize"))


def _reset_progress(job: ImportJob) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=0,
        processed_bytes=0,
        created_count=0,
        merged_count=0,
        unchanged_count=0,
        rejected_count=0,
        duplicate_count=0,
        report_bytes=0,
    )
    job.refresh_from_db()


def _run(job: ImportJob, *, chunk_size: int) -> ImportResult:
    started = perf_counter()
    run: _Run | None = None
    try:
        mapping = mapping_from_dict(job.mapping)
        run = _Run(job, mapping, chunk_size)
        run.execute()
    except BaseException as exc:
        seconds = perf_counter() - started
        message = _failure_message(job, exc)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            error=message,
            seconds=F("seconds") + seconds,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not isinstance(exc, Exception):
            raise  # KeyboardInterrupt, SystemExit: recorded, then let it stop the process
        if not isinstance(exc, ApplicationError):
            logger.exception("import %s failed", job.pk)
        raise ImportFailed(message, job_id=job.pk) from exc
    seconds = perf_counter() - started
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE,
        total_rows=F("processed_rows"),
        processed_bytes=F("file_size"),
        seconds=F("seconds") + seconds,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
        error="",
    )
    job.refresh_from_db()
    return import_result(job, rows=run.rows_this_run if run else 0, seconds=seconds)


def _failure_message(job: ImportJob, exc: BaseException) -> str:
    if isinstance(exc, ApplicationError):
        return exc.message
    done = ImportJob.objects.filter(pk=job.pk).values_list("processed_rows", flat=True).first()
    what = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
    return (
        f"the import stopped after {done or 0:,} committed rows ({what}); nothing of the "
        f"unfinished chunk was kept. Resume it with: leadpact import resume {job.pk}"
    )
