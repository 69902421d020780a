"""Section ``import``: CSV import throughput through ``import_file``, the same code the CLI,
the import page's background job and this benchmark all use.

Two files: 100,000 synthetic leads written on the fly (realistic values, about 2 % invalid rows
and 3 % in-file duplicates) and the real Olist file of 8,000 marketing-qualified leads with
``examples/olist_mqls.mapping.json``. Each import runs in a fresh database, on SQLite and on
PostgreSQL. The likely-duplicate scan that an import hands to the background once it is done
is timed separately (``background_duplicate_scan``): the import's rows/s is what a person
waits for, exact-match dedupe (merging by e-mail / external id) included.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import REPO_ROOT, in_database, scaled

SYNTHETIC_ROWS = 100_000
GOAL_ROWS_PER_S = 5000
NEXT_BUDGET_S = 30
OLIST_MAPPING = REPO_ROOT / "examples" / "olist_mqls.mapping.json"
OLIST_FILE = "olist_marketing_qualified_leads.csv"
# Measured elsewhere, quoted as found: an existing open-source Django CRM importing the same
# 8,000 Olist leads.
PEER = {
    "what": "an existing open-source Django CRM importing the 8,000 Olist MQLs (measured "
    "elsewhere, not on this machine)",
    "rows": 8000,
    "seconds": 240,
    "rows_per_s": round(8000 / 240, 1),
}


def run() -> dict[str, Any]:
    rows = scaled(SYNTHETIC_ROWS, minimum=500)
    result: dict[str, Any] = {"goal_rows_per_s": GOAL_ROWS_PER_S, "peer": PEER}
    for engine in ("sqlite", "postgresql"):
        synthetic = in_database("bench.import:measure_synthetic", engine, label="import", rows=rows)
        olist = in_database("bench.import:measure_olist", engine, label="import")
        for measured in (synthetic, olist):
            speed = measured.get("rows_per_s")
            if speed:
                measured["x_goal"] = round(speed / GOAL_ROWS_PER_S, 2)
                measured["x_peer"] = round(speed / PEER["rows_per_s"], 1)
        result[engine] = {"synthetic": synthetic, "olist": olist}
        if engine == "sqlite":
            rows = _within_budget(rows, synthetic, result)
    return result


def _within_budget(rows: int, measured: dict[str, Any], result: dict[str, Any]) -> int:
    """Rows for PostgreSQL: as many as SQLite imported in ``NEXT_BUDGET_S`` seconds, so that
    ``make bench`` stays within its ten minutes. Throughput is a rate: fewer rows still
    measure it (the first chunks are no faster than the last)."""
    speed = measured.get("rows_per_s") or 0
    if not speed:
        return rows
    fewer = max(10_000, int(speed * NEXT_BUDGET_S) // 1000 * 1000)
    if fewer >= rows:
        return rows
    result["note"] = (
        f"PostgreSQL imported {fewer:,} synthetic rows instead of {rows:,}: as many as SQLite "
        f"imported in {NEXT_BUDGET_S} s, to keep make bench within 10 minutes"
    )
    return fewer


# --- in the worker -------------------------------------------------------------------------


def measure_synthetic(rows: int) -> dict[str, Any]:
    from bench.synthetic import CSV_MAPPING, write_csv

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic-leads.csv"
        started = time.perf_counter()
        planted = write_csv(path, rows)
        generated = time.perf_counter() - started
        result = _import(path, CSV_MAPPING)
    result["planted"] = {**planted, "generated_in_s": round(generated, 1)}
    return result


def measure_olist() -> dict[str, Any]:
    from django.conf import settings

    path = Path(settings.DATASETS_DIR) / OLIST_FILE
    if not path.is_file():
        return {"skipped": f"{path} not found (the shared datasets folder is absent)"}
    if not OLIST_MAPPING.is_file():
        return {"skipped": f"{OLIST_MAPPING} not found"}
    return _import(path, json.loads(OLIST_MAPPING.read_text()))


def _import(path: Path, mapping: dict[str, Any]) -> dict[str, Any]:
    """The import itself (what the person waits for: the job is done when its chunks are), then
    the likely-duplicate scan it hands to the background, timed on its own."""
    from unittest import mock

    from django.db import connection

    from bench.measure import RssSampler
    from leadpact.leads.models import DuplicateCandidate, Lead
    from leadpact.leads.services.dedupe import duplicates_scan
    from leadpact.leads.services.imports import import_file

    handed_over: list[int] = []
    size_mb = round(path.stat().st_size / 2**20, 1)
    with (
        RssSampler() as rss,
        mock.patch(
            "leadpact.leads.services.imports.runner.duplicates_scan_enqueue",
            side_effect=lambda ids: handed_over.extend(ids),
        ),
    ):
        started = time.perf_counter()
        outcome = import_file(path, mapping)
        seconds = time.perf_counter() - started
    started = time.perf_counter()
    duplicates_scan(lead_ids=handed_over)
    scan_seconds = time.perf_counter() - started
    rows = outcome.rows
    return {
        "vendor": connection.vendor,
        "file": path.name,
        "file_mb": size_mb,
        "rows": rows,
        "created": outcome.created,
        "merged": outcome.merged,
        "unchanged": outcome.unchanged,
        "duplicates": outcome.duplicates,
        "rejected": outcome.rejected,
        "leads_in_database": Lead.objects.count(),
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else None,
        "peak_rss_mb": round(rss.peak_mb, 1),
        "rss_growth_mb": rss.growth_mb,
        "background_duplicate_scan": {
            "leads_scanned": len(handed_over),
            "seconds": round(scan_seconds, 2),
            "candidates_found": DuplicateCandidate.objects.count(),
        },
    }
