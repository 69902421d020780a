"""The benchmark machinery works: sections are found, run in databases of their own, and the
merged JSON is printed and written. Timings are measured, never asserted."""

from __future__ import annotations

import json
import subprocess
import sys

from bench import harness
from bench.measure import percentiles
from bench.synthetic import SyntheticLeads


def test_sections_are_the_modules_with_run():
    sections = harness.discover()
    assert {"baseline", "import", "api_capture", "lead_list", "handoff"} <= set(sections)
    assert not set(sections) & harness.HELPERS


def test_python_m_bench_runs_a_tiny_section(tmp_path):
    out = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "baseline", "--scale", "0.05", "--out", str(out)],
        cwd=harness.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert json.loads(done.stdout) == results
    assert set(results) == {"meta", "baseline"}
    assert results["meta"]["python"] and results["meta"]["database"]["sqlite"]
    sqlite = results["baseline"]["sqlite"]
    assert sqlite["vendor"] == "sqlite" and sqlite["insert_ms"]["n"] == 20
    postgresql = results["baseline"]["postgresql"]
    assert postgresql.get("vendor") == "postgresql" or "unreachable" in postgresql["skipped"]


def test_unknown_section_is_refused_with_the_list(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench", "nosuch", "--out", str(tmp_path / "x.json")],
        cwd=harness.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown section(s) nosuch" in done.stderr and "lead_list" in done.stderr
    assert not (tmp_path / "x.json").exists()


def test_percentiles():
    stats = percentiles([float(x) for x in range(1, 101)])
    assert stats["n"] == 100 and stats["min"] == 1 and stats["max"] == 100
    assert 50 <= stats["p50"] <= 51 and 95 <= stats["p95"] <= 96
    assert percentiles([]) == {}


def test_synthetic_people_are_seeded_and_distinct():
    def sample(seed: int) -> list[tuple[str, str, str]]:
        return [(p.email, p.channel, p.phone) for p in SyntheticLeads(seed=seed).people(500)]

    first = sample(3)
    assert sample(3) == first and sample(4) != first
    assert len({email for email, _, _ in first}) == 500
