"""The CSV importer end to end: validation, dedupe, idempotency, report, bad input, resume."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadpact.campaigns.models import Campaign, Touch
from leadpact.factories import CampaignFactory, LeadFactory
from leadpact.leads.models import ImportJob, Lead, TimelineEvent
from leadpact.leads.services.imports import (
    ImportFailed,
    ImportFileError,
    MappingError,
    import_file,
)
from leadpact.leads.services.imports import writer as writer_module
from leadpact.leads.services.imports.jobs import import_job_reopen
from leadpact.leads.services.imports.runner import import_job_run

pytestmark = pytest.mark.django_db

HEADER = ["Email", "First", "Last", "Phone", "Company", "Channel", "Campaign", "Created", "Score"]
MAPPING = {
    "external_source": "crm",
    "columns": {
        "Email": "email",
        "First": "first_name",
        "Last": "last_name",
        "Phone": "phone",
        "Company": "company_name",
        "Channel": "source_channel",
        "Campaign": "campaign",
        "Created": "captured_at",
        "Score": "attribute:score",
    },
    "dates": {"Created": "%d/%m/%Y"},
    "campaigns": {"code": "{value}", "name": "Campaign {value}", "create_missing": True},
    "touch": {"kind": "form_fill", "occurred_at": "Created"},
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, **kw) -> Path:
    with path.open("w", newline="", encoding=kw.get("encoding", "utf-8")) as handle:
        writer = csv.writer(handle, delimiter=kw.get("delimiter", ","))
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row(i: int, **over: str) -> list[str]:
    values = {
        "Email": f"person{i}@example.com",
        "First": f"First{i}",
        "Last": "Doe",
        "Phone": f"+1 415 555 {i % 10000:04d}",
        "Company": "Acme",
        "Channel": "Paid Search",
        "Campaign": "spring",
        "Created": f"{1 + i % 28:02d}/03/2024",
        "Score": str(i),
    }
    values.update(over)
    return [values[h] for h in HEADER]


def report_rows(path: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_import_creates_leads_touches_campaigns_and_timeline(tmp_path):
    path = write_csv(tmp_path / "leads.csv", [row(i) for i in range(5)])
    result = import_file(path, MAPPING)
    assert (result.created, result.merged, result.rejected, result.rows) == (5, 0, 0, 5)
    lead = Lead.objects.get(email_key="person1@example.com")
    assert lead.source_channel == "paid_search"
    assert lead.phone == "+14155550001"
    assert lead.captured_at.date().isoformat() == "2024-03-02"
    assert lead.attributes == {"score": "1"}
    assert lead.external_source == "crm"
    campaign = Campaign.objects.get(code="spring")
    assert lead.source_campaign_id == campaign.pk and campaign.channel == "paid_search"
    touch = Touch.objects.get(lead=lead)
    assert (touch.kind, touch.campaign_id, touch.occurred_at) == (
        "form_fill",
        campaign.pk,
        lead.captured_at,
    )
    kinds = sorted(lead.timeline.values_list("kind", flat=True))
    assert kinds == [TimelineEvent.Kind.CREATED, TimelineEvent.Kind.TOUCH]
    assert lead.timeline.get(kind="touch").touch_id == touch.pk


def test_reimport_of_the_same_file_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "leads.csv", [row(i) for i in range(6)])
    import_file(path, MAPPING)
    counts = (Lead.objects.count(), Touch.objects.count(), TimelineEvent.objects.count())
    versions = list(Lead.objects.order_by("pk").values_list("version", flat=True))
    again = import_file(path, MAPPING)
    assert (again.created, again.merged, again.unchanged) == (0, 0, 6)
    assert counts == (Lead.objects.count(), Touch.objects.count(), TimelineEvent.objects.count())
    assert versions == list(Lead.objects.order_by("pk").values_list("version", flat=True))


def test_existing_lead_is_merged_by_email_with_the_shared_rule(tmp_path):
    existing = LeadFactory(
        email="Person1@Example.com", email_key="person1@example.com", first_name="Old", title="CEO"
    )
    path = write_csv(tmp_path / "leads.csv", [row(1)])
    result = import_file(path, MAPPING)
    assert (result.created, result.merged) == (0, 1)
    existing.refresh_from_db()
    assert existing.first_name == "First1"  # a non-empty incoming value replaces
    assert existing.title == "CEO"  # an empty one leaves the stored value
    assert existing.version == 2
    change = existing.timeline.get(kind=TimelineEvent.Kind.FIELD_CHANGE)
    assert change.data["changes"]["first_name"] == ["Old", "First1"]


def test_merged_away_lead_is_followed_to_its_survivor(tmp_path):
    survivor = LeadFactory(email="keep@example.com", email_key="keep@example.com")
    LeadFactory(email="gone@example.com", email_key="gone@example.com", merged_into=survivor)
    path = write_csv(tmp_path / "leads.csv", [row(1, Email="gone@example.com", First="Zed")])
    result = import_file(path, MAPPING)
    assert (result.created, result.merged) == (0, 1)
    survivor.refresh_from_db()
    assert survivor.first_name == "Zed"
    assert Touch.objects.get().lead_id == survivor.pk


def test_same_person_twice_in_one_file_merges_into_the_first(tmp_path):
    rows = [row(1), row(2), row(1, First="Changed", Company="Other")]
    result = import_file(write_csv(tmp_path / "leads.csv", rows), MAPPING, chunk_size=2)
    assert (result.created, result.merged, result.duplicates) == (2, 1, 0)
    lead = Lead.objects.get(email_key="person1@example.com")
    assert (lead.first_name, lead.company_name) == ("Changed", "Other")
    result = import_file(write_csv(tmp_path / "b.csv", [row(7), row(7, First="X")]), MAPPING)
    assert (result.created, result.merged) == (1, 1)  # within one chunk too
    assert Lead.objects.get(email_key="person7@example.com").first_name == "X"


def test_exact_repeat_is_a_duplicate_and_reported(tmp_path):
    rows = [row(1), row(2), row(1)]
    result = import_file(write_csv(tmp_path / "leads.csv", rows), MAPPING, chunk_size=1)
    assert (result.created, result.duplicates, result.rejected) == (2, 1, 0)
    report = report_rows(result.report_path)
    assert report[1][:2] == ["4", "duplicate: same as line 2"]


def test_bad_rows_are_reported_with_line_and_reason_and_the_rest_imported(tmp_path):
    formula = "=cmd|' /C calc'!A0"
    rows = [
        row(1),
        row(2, Email="not-an-email"),
        row(3, First=formula),
        row(4, Last="x" * 500),
        row(5, Created="31-02-2024"),
        row(6, Score=formula),
        row(7, Email="", Phone="12"),
        row(8, Campaign=formula),
        row(9)[:-2],  # too few fields
        [*row(10), "extra"],  # too many
    ]
    path = write_csv(tmp_path / "leads.csv", rows)
    result = import_file(path, MAPPING)
    assert (result.created, result.rejected) == (1, 9)
    report = report_rows(result.report_path)
    assert report[0][:3] == ["line", "reason", "Email"]
    reasons = {int(r[0]): r[1] for r in report[1:]}
    assert "not a valid e-mail" in reasons[3]
    assert "formula" in reasons[4] and "first_name" in reasons[4]
    assert "at most 100" in reasons[5]
    assert "not a date like 31/03/2024" in reasons[6]
    assert "score" in reasons[7] and "formula" in reasons[7]
    assert "e-mail address or an external id" in reasons[8] and "phone" in reasons[8]
    assert "campaign" in reasons[9] and "formula" in reasons[9]
    assert "7 fields but the header has 9" in reasons[10]
    assert "10 fields" in reasons[11]
    # the report neutralises the formula so a spreadsheet shows it as text
    formula_row = next(r for r in report if r[0] == "4")
    assert formula_row[2 + HEADER.index("First")] == "'" + formula
    assert not Lead.objects.filter(first_name__startswith="=").exists()


def test_line_numbers_are_physical_lines_with_multiline_cells(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(
        'Email,First\na@example.com,"two\nlines"\n\nbad-email,Bob\n',
        encoding="utf-8",
    )
    result = import_file(path, {"columns": {"Email": "email", "First": "first_name"}})
    assert (result.created, result.rejected) == (1, 1)
    assert report_rows(result.report_path)[1][0] == "5"


def test_oversized_cell_is_a_rejected_row(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(
        f"Email,Note\na@example.com,{'x' * 200_000}\nb@example.com,ok\n", encoding="utf-8"
    )
    result = import_file(path, {"columns": {"Email": "email", "Note": "attribute"}})
    assert (result.created, result.rejected) == (1, 1)
    assert "larger than" in report_rows(result.report_path)[1][1]


def test_wrong_encoding_names_the_line_and_suggests_an_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("Email,First\na@example.com,Ann\nb@example.com,Jos\xe9\n".encode("latin-1"))
    mapping = {"columns": {"Email": "email", "First": "first_name"}}
    with pytest.raises(ImportFailed, match=r"line 3 is not valid utf-8.*--encoding cp1252"):
        import_file(path, mapping)
    assert not Lead.objects.exists()  # checked before anything is written
    result = import_file(path, {**mapping, "encoding": "cp1252"})
    assert result.created == 2
    assert Lead.objects.get(email_key="b@example.com").first_name == "José"


def test_utf8_bom_and_semicolon_delimiter_are_handled(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffEmail;First\r\na@example.com;Ann\r\n".encode())
    result = import_file(path, {"columns": {"Email": "email", "First": "first_name"}})
    assert result.created == 1
    assert Lead.objects.get().first_name == "Ann"
    mapping = {"encoding": "utf-8-sig", "columns": {"Email": "email", "First": "first_name"}}
    assert import_file(path, mapping).unchanged == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"Email,First\n", "header row but no data rows"),
        (b"Email,First\n\n\n", "header row but no data rows"),
        (b"Email,Email\na@example.com,b\n", "appears twice in the header"),
        ("Email\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_unusable_files_fail_with_a_specific_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailed, match=message):
        import_file(path, {"columns": {"Email": "email"}})
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_missing_mapped_columns_are_listed_and_extra_columns_ignored(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["a@example.com", "x"]], header=["Email", "Other"])
    mapping = {"columns": {"Email": "email", "Name": "first_name", "Phone": "phone"}}
    with pytest.raises(ImportFailed, match=r"lacks the mapped column\(s\) 'Name', 'Phone'"):
        import_file(path, mapping)
    result = import_file(path, {"columns": {"Email": "email"}})
    assert result.created == 1 and result.ignored_columns == ["Other"]


def test_mapping_with_unknown_field_is_refused(tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(1)])
    with pytest.raises(MappingError, match="unknown field 'emial'"):
        import_file(path, {"columns": {"Email": "emial"}})
    with pytest.raises(ImportFileError, match="file not found"):
        import_file(tmp_path / "nope.csv", MAPPING)


def test_unknown_campaign_is_rejected_when_the_mapping_does_not_create_it(tmp_path):
    CampaignFactory(code="known")
    mapping = {**MAPPING, "campaigns": {"code": "{value}", "create_missing": False}}
    rows = [row(1, Campaign="known"), row(2, Campaign="Unknown One")]
    result = import_file(write_csv(tmp_path / "a.csv", rows), mapping)
    assert (result.created, result.rejected) == (1, 1)
    assert "no campaign with code 'unknown-one'" in report_rows(result.report_path)[1][1]
    assert not Campaign.objects.filter(code="unknown-one").exists()


def test_email_and_external_id_of_different_leads_is_rejected(tmp_path):
    LeadFactory(email="a@example.com", email_key="a@example.com")
    LeadFactory(
        email="b@example.com", email_key="b@example.com", external_source="crm", external_id="B-1"
    )
    path = write_csv(tmp_path / "a.csv", [["a@example.com", "B-1"]], header=["Email", "Id"])
    result = import_file(
        path, {"external_source": "crm", "columns": {"Email": "email", "Id": "external_id"}}
    )
    assert result.rejected == 1
    assert "merge those leads first" in report_rows(result.report_path)[1][1]


def test_dry_run_writes_no_lead_but_counts(tmp_path):
    LeadFactory(email="person1@example.com", email_key="person1@example.com")
    rows = [row(1), row(2), row(3, Email="bad"), row(2, First="Again")]
    before = (Lead.objects.count(), Touch.objects.count(), Campaign.objects.count())
    result = import_file(write_csv(tmp_path / "a.csv", rows), MAPPING, dry_run=True, chunk_size=2)
    assert (result.created, result.merged, result.rejected) == (1, 2, 1)
    assert before == (Lead.objects.count(), Touch.objects.count(), Campaign.objects.count())
    assert TimelineEvent.objects.count() == 0


def test_a_chunk_costs_a_fixed_number_of_queries(tmp_path):
    def queries(n: int) -> int:
        path = write_csv(tmp_path / f"q{n}.csv", [row(1000 * n + i) for i in range(n)])
        with CaptureQueriesContext(connection) as ctx:
            import_file(path, MAPPING, chunk_size=1000)
        return len(ctx.captured_queries)

    CampaignFactory(code="spring")
    assert queries(5) == queries(300)


def _snapshot() -> dict:
    leads = sorted(
        Lead.objects.values_list(
            "email_key",
            "first_name",
            "phone",
            "source_channel",
            "source_campaign__code",
            "captured_at",
            "attributes",
            "version",
        )
    )
    touches = sorted(
        Touch.objects.values_list(
            "idempotency_key", "lead__email_key", "campaign__code", "occurred_at", "channel"
        )
    )
    events = sorted(TimelineEvent.objects.values_list("lead__email_key", "kind", "summary"))
    campaigns = sorted(Campaign.objects.values_list("code", "channel"))
    return {"leads": leads, "touches": touches, "events": events, "campaigns": campaigns}


def _wipe() -> None:
    TimelineEvent.objects.all().delete()
    Touch.objects.all().delete()
    Lead.objects.all().delete()
    Campaign.objects.all().delete()


def test_failure_in_chunk_two_leaves_whole_chunks_and_resume_matches_uninterrupted(
    tmp_path, monkeypatch
):
    rows = [row(i, Campaign=f"c{i % 3}") for i in range(10)]
    rows += [row(3, First="Later"), row(2), row(20, Email="bad")]  # merge, duplicate, reject
    path = write_csv(tmp_path / "a.csv", rows)
    full = import_file(path, MAPPING, chunk_size=4)
    expected = _snapshot()
    expected_report = Path(full.report_path).read_text()
    _wipe()

    real = writer_module.timeline_events_bulk
    calls = {"n": 0}

    def failing(events, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            real(events, **kwargs)  # written, then the chunk fails: all of it must roll back
            raise RuntimeError("disk full")
        return real(events, **kwargs)

    monkeypatch.setattr(writer_module, "timeline_events_bulk", failing)
    with pytest.raises(ImportFailed, match=r"after 4 committed rows.*import resume"):
        import_file(path, MAPPING, chunk_size=4)
    job = ImportJob.objects.latest("id")
    assert (job.status, job.processed_rows, job.created_count) == ("failed", 4, 4)
    assert Lead.objects.count() == 4 and Touch.objects.count() == 4
    assert TimelineEvent.objects.count() == 8

    monkeypatch.setattr(writer_module, "timeline_events_bulk", real)
    import_job_reopen(job=job, actor=None)
    resumed = import_job_run(job.pk, chunk_size=4)
    assert resumed is not None and resumed.status == "done"
    assert (resumed.created, resumed.merged, resumed.duplicates, resumed.rejected) == (
        full.created,
        full.merged,
        full.duplicates,
        full.rejected,
    )
    assert _snapshot() == expected
    assert Path(resumed.report_path).read_text() == expected_report


def test_only_a_failed_job_can_be_resumed(tmp_path):
    result = import_file(write_csv(tmp_path / "a.csv", [row(1)]), MAPPING)
    job = ImportJob.objects.get(pk=result.job_id)
    with pytest.raises(Exception, match="only a failed import"):
        import_job_reopen(job=job, actor=None)


def test_seen_rows_matches_a_dict_across_many_segments():
    import random

    from leadpact.leads.services.imports.seen import SeenRows

    rng = random.Random(7)
    seen, reference = SeenRows(), {}
    line = 1
    for _ in range(40):
        keys = [rng.randrange(3000) for _ in range(rng.randrange(1, 120))]
        lines = list(range(line + 1, line + 1 + len(keys)))
        line += len(keys)
        expected = []
        for key, at in zip(keys, lines, strict=True):
            expected.append(reference.get(key, 0))
            reference.setdefault(key, at)
        assert seen.check_and_add(keys, lines) == expected
    assert len(seen) == len(reference)


def test_a_busy_database_is_retried_without_double_counting(tmp_path, monkeypatch):
    from django.db import OperationalError

    from leadpact.leads.services.imports import runner

    real = writer_module.timeline_events_bulk
    calls = {"n": 0}

    def busy_once(events, **kwargs):
        calls["n"] += 1
        real(events, **kwargs)
        if calls["n"] == 1:
            raise OperationalError("database is locked")

    monkeypatch.setattr(writer_module, "timeline_events_bulk", busy_once)
    monkeypatch.setattr(runner.time, "sleep", lambda seconds: None)
    rows = [row(1), row(2, Email="bad"), row(3)]
    result = import_file(write_csv(tmp_path / "a.csv", rows), MAPPING)
    assert (result.created, result.rejected, result.status) == (2, 1, "done")
    assert Lead.objects.count() == 2 and TimelineEvent.objects.count() == 4
    assert len(report_rows(result.report_path)) == 2  # header + the bad row, once
