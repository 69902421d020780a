"""``leadpact import leads FILE --mapping MAPPING [--dry-run] [--json] [--encoding ENC]``
and ``leadpact import resume JOB_ID [--force] [--json]``.

Bad arguments end with one line saying what is wrong and a non-zero exit, never a traceback.
Rejected rows are not an error: they are listed in the report whose path the command prints.
A failed import says how to resume it (``leadpact import resume JOB_ID``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.common.errors import ApplicationError
from leadpact.leads.models import ImportJob
from leadpact.leads.services.imports import (
    CHUNK_SIZE,
    ImportResult,
    import_file,
    import_job_run,
    mapping_load,
)
from leadpact.leads.services.imports.jobs import import_job_reopen
from leadpact.leads.services.imports.mapping import check_encoding


class Command(BaseCommand):
    help = "Import leads from a CSV file with a mapping file, or resume a failed import."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True, metavar="{leads,resume}")
        leads = sub.add_parser("leads", help="import a CSV file of leads")
        leads.add_argument("file", help="the CSV file")
        leads.add_argument("--mapping", required=True, help="the JSON mapping file")
        leads.add_argument("--dry-run", action="store_true", help="validate; write no lead")
        leads.add_argument("--encoding", default="", help="the file's encoding (e.g. cp1252)")
        leads.add_argument("--chunk-size", type=int, default=CHUNK_SIZE, help=argparse.SUPPRESS)
        leads.add_argument("--json", action="store_true", help="print one JSON object")
        resume = sub.add_parser("resume", help="resume a failed import from its checkpoint")
        resume.add_argument("job_id", type=int)
        resume.add_argument("--force", action="store_true", help="also a job left 'running'")
        resume.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            leads = options["what"] == "leads"
            result = self._leads(options) if leads else self._resume(options)
        except ApplicationError as exc:
            if options.get("json"):
                self.stdout.write(json.dumps({"error": exc.message, **exc.extra}))
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            self._summary(result)

    def _leads(self, options: dict[str, Any]) -> ImportResult:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"file not found: {path}")
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        mapping = mapping_load(options["mapping"])
        if options["encoding"]:
            mapping = replace(mapping, encoding=check_encoding(options["encoding"]))
        return import_file(
            path, mapping, dry_run=options["dry_run"], chunk_size=options["chunk_size"]
        )

    def _resume(self, options: dict[str, Any]) -> ImportResult:
        job = ImportJob.objects.filter(pk=options["job_id"]).first()
        if job is None:
            raise CommandError(f"there is no import {options['job_id']}")
        import_job_reopen(job=job, actor=None, force=options["force"])
        result = import_job_run(job.pk)
        if result is None:
            raise CommandError(f"import {job.pk} was taken by another worker")
        return result

    def _summary(self, result: ImportResult) -> None:
        what = "Dry run" if result.dry_run else "Import"
        self.stdout.write(
            f"{what} {result.job_id}: {result.rows:,} rows in {result.seconds:.1f}s "
            f"({result.rows_per_second:,.0f} rows/s)"
        )
        self.stdout.write(
            f"  created {result.created:,}, merged {result.merged:,}, unchanged "
            f"{result.unchanged:,}, duplicates {result.duplicates:,}, rejected {result.rejected:,}"
        )
        if result.ignored_columns:
            self.stdout.write(f"  ignored columns: {', '.join(result.ignored_columns)}")
        self.stdout.write(f"  rejected rows report: {result.report_path}")
