"""The rejected-rows report: a CSV of every row not imported, with its line and the reason.

Cells go through ``neutralise`` so opening the report in a spreadsheet cannot run a formula a
bad row carried. The report is appended chunk by chunk *before* the chunk commits, and the
job records (in the chunk's transaction) how many bytes of it are committed: a resumed import
first cuts the report back to that length, so rows of a rolled-back chunk are never reported
twice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from leadpact.common.spreadsheet import neutralise
from leadpact.leads.services.imports.rows import RejectedRow

REPORT_DIR = "imports/reports"


def report_path_for(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / REPORT_DIR / f"import-{job_id}-rejected.csv"


class RejectReport:
    def __init__(self, path: Path, headers: list[str], *, keep_bytes: int) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if keep_bytes and path.exists():
            self._handle = path.open("r+b")
            self._handle.truncate(keep_bytes)
            self._handle.seek(keep_bytes)
        else:
            self._handle = path.open("wb")
            self._write([["line", "reason", *headers]])

    def _write(self, rows: Iterable[list[object]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([neutralise(cell) for cell in row] for row in rows)
        self._handle.write(buffer.getvalue().encode("utf-8"))
        self._handle.flush()

    def add(self, rejected: list[RejectedRow]) -> None:
        if rejected:
            self._write([r.line, r.reason, *r.cells] for r in sorted(rejected, key=_line))

    def truncate(self, size: int) -> None:
        """Drop what a chunk that did not commit wrote."""
        self._handle.truncate(size)
        self._handle.seek(size)

    @property
    def size(self) -> int:
        return self._handle.tell()

    def close(self) -> None:
        self._handle.close()


def _line(row: RejectedRow) -> int:
    return row.line
