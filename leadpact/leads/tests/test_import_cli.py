"""``leadpact import leads …`` and ``leadpact import resume …``: output and clear errors."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leadpact.leads.models import ImportJob, Lead
from leadpact.leads.services.imports import writer as writer_module

pytestmark = pytest.mark.django_db

MAPPING = {"external_source": "crm", "columns": {"Email": "email", "Id": "external_id"}}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    data = tmp_path / "leads.csv"
    data.write_text(
        "Email,Id,Extra\na@example.com,1,x\nb@example.com,2,y\nnot-an-email,3,z\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps(MAPPING), encoding="utf-8")
    return data, mapping


def run(*args: str) -> str:
    out = StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_json_output_is_one_object_with_counts_and_report(files):
    data, mapping = files
    out = json.loads(run("leads", str(data), "--mapping", str(mapping), "--json"))
    assert (out["created"], out["merged"], out["rejected"], out["rows"]) == (2, 0, 1, 3)
    assert out["ignored_columns"] == ["Extra"]
    assert Path(out["report_path"]).is_file()
    assert {"unchanged", "duplicates", "seconds", "rows_per_second", "job_id"} <= set(out)
    again = json.loads(run("leads", str(data), "--mapping", str(mapping), "--json"))
    assert (again["created"], again["unchanged"]) == (0, 2)


def test_text_output_and_dry_run(files):
    data, mapping = files
    out = run("leads", str(data), "--mapping", str(mapping), "--dry-run")
    assert "Dry run" in out and "created 2" in out and "rejected rows report:" in out
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["leads", "missing.csv", "--mapping", "{mapping}"], "file not found: missing.csv"),
        (["leads", "{data}", "--mapping", "nope.json"], "mapping file not found: nope.json"),
        (["leads", "{data}", "--mapping", "{broken}"], "is not valid JSON: Expecting"),
        (["leads", "{data}", "--mapping", "{unknown}"], "maps to unknown field 'mail'"),
        (
            ["leads", "{data}", "--mapping", "{mapping}", "--encoding", "klingon"],
            "unknown encoding",
        ),
        (["resume", "999"], "there is no import 999"),
    ],
)
def test_bad_arguments_give_one_clear_line(files, tmp_path, args, message):
    data, mapping = files
    (tmp_path / "broken.json").write_text("{oops", encoding="utf-8")
    (tmp_path / "unknown.json").write_text('{"columns": {"Email": "mail"}}', encoding="utf-8")
    names = {
        "data": str(data),
        "mapping": str(mapping),
        "broken": str(tmp_path / "broken.json"),
        "unknown": str(tmp_path / "unknown.json"),
    }
    with pytest.raises(CommandError, match=message) as info:
        run(*[a.format(**names) for a in args])
    assert "\n" not in str(info.value)


def test_wrong_encoding_suggests_the_option(files, tmp_path):
    _, mapping = files
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Email,Id,Name\nj@example.com,1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(CommandError, match=r"line 2 is not valid utf-8.*--encoding cp1252"):
        run("leads", str(latin), "--mapping", str(mapping))
    out = json.loads(
        run("leads", str(latin), "--mapping", str(mapping), "--encoding", "cp1252", "--json")
    )
    assert out["created"] == 1


def test_resume_continues_a_failed_import(files, monkeypatch):
    data, mapping = files
    monkeypatch.setattr(writer_module, "timeline_events_bulk", _boom)
    with pytest.raises(CommandError, match="import resume"):
        run("leads", str(data), "--mapping", str(mapping), "--chunk-size", "1")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and not Lead.objects.exists()
    monkeypatch.undo()
    out = json.loads(run("resume", str(job.pk), "--json"))
    assert (out["job_id"], out["created"], out["rejected"], out["status"]) == (job.pk, 2, 1, "done")
    with pytest.raises(CommandError, match="only a failed import"):
        run("resume", str(job.pk))


def _boom(*args, **kwargs):
    raise RuntimeError("database went away")


def test_console_script_exits_non_zero_without_traceback(files, tmp_path):
    import subprocess
    import sys

    data, _ = files
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadpact.cli",
            "import",
            "leads",
            str(data),
            "--mapping",
            str(tmp_path / "absent.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "mapping file not found" in proc.stderr
    assert "Traceback" not in proc.stderr
