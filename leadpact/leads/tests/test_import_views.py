"""The import pages: who may use them, upload → map → background job → result and report."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from leadpact.leads.models import ImportJob, ImportMapping, Lead

pytestmark = pytest.mark.django_db

CSV = (
    b"E-mail,First name,Origin,Signed up,Notes\n"
    b"a@example.com,Ann,paid search,31-03-2024,x\n"
    b"b@example.com,Bob,social,01-04-2024,y\n"
    b"not-an-email,Eve,social,01-04-2024,=cmd|' /C calc'!A0\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, content: bytes = CSV, name: str = "leads.csv", **extra):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **extra}
    return client.post(reverse("imports:upload"), data)


def mapping_form(job: ImportJob, **over: str) -> dict[str, str]:
    form = {f"target_{i}": "ignore" for i in range(len(job.headers))}
    form.update(
        {
            "target_0": "email",
            "target_1": "first_name",
            "target_2": "source_channel",
            "target_3": "captured_at",
            "date_3": "%d-%m-%Y",
            "target_4": "attribute",
            "touch_kind": "form_fill",
            "external_source": "",
            "missing_values": "",
        }
    )
    form.update(over)
    return form


@pytest.mark.parametrize("role", ["sales_rep", "sales_manager"])
def test_sales_may_not_use_the_import_pages(client_for, role, tmp_path):
    client = client_for(role)
    assert client.get(reverse("imports:list")).status_code == 403
    assert upload(client).status_code == 403
    job = ImportJob.objects.create(original_name="x.csv", file_path=str(tmp_path / "x.csv"))
    for name in ("detail", "status", "report"):
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 403
    assert client.post(reverse("imports:resume", args=[job.pk])).status_code == 403
    assert client.post(reverse("imports:mapping", args=[job.pk])).status_code == 403
    assert not Lead.objects.exists()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("imports:list"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("role", ["marketing", "admin"])
def test_upload_map_run_and_download_the_report(
    client_for, role, django_capture_on_commit_callbacks
):
    client = client_for(role)
    assert client.get(reverse("imports:list")).status_code == 200
    response = upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:mapping", args=[job.pk])
    assert job.status == ImportJob.Status.DRAFT
    assert job.headers == ["E-mail", "First name", "Origin", "Signed up", "Notes"]
    # the first guess comes from the header names
    page = client.get(response["Location"]).content.decode()
    assert '<option value="email" selected>' in page
    assert '<option value="first_name" selected>' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:mapping", args=[job.pk]), mapping_form(job))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.created_count, job.rejected_count) == (2, 1)
    assert (
        Lead.objects.get(email_key="a@example.com").captured_at.date().isoformat() == "2024-03-31"
    )

    detail = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'id="count-created">2<' in detail
    assert reverse("imports:status", args=[job.pk]) not in detail  # the progress poll stopped
    report = client.get(reverse("imports:report", args=[job.pk]))
    body = b"".join(report.streaming_content).decode()
    assert report["Content-Disposition"].startswith("attachment")
    assert "4," in body and "not a valid e-mail" in body
    assert "'=cmd" in body  # neutralised for spreadsheets

    listing = client.get(reverse("imports:list")).content.decode()
    assert "leads.csv" in listing and reverse("imports:detail", args=[job.pk]) in listing


def test_running_job_is_polled_with_htmx(client_for, tmp_path):
    job = ImportJob.objects.create(
        original_name="x.csv",
        file_path="x",
        status="running",
        file_size=1000,
        processed_bytes=500,
        processed_rows=10,
    )
    fragment = client_for("marketing").get(reverse("imports:status", args=[job.pk]))
    html = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in html and 'aria-valuenow="50"' in html


def test_dry_run_from_the_page_writes_nothing(client_for, django_capture_on_commit_callbacks):
    client = client_for("marketing")
    upload(client)
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:mapping", args=[job.pk]), mapping_form(job, dry_run="on"))
    job.refresh_from_db()
    assert job.status == "done" and job.dry_run and job.created_count == 2
    assert not Lead.objects.exists()


@override_settings(LEADPACT_IMPORT_MAX_BYTES=50)
def test_file_over_the_limit_is_refused_with_a_clear_message(client_for):
    response = upload(client_for("marketing"))
    assert response.status_code == 413
    assert "imports take at most 50 bytes" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "The file is empty"), (b"a,a\n1,2\n", "appears twice in the header")],
)
def test_unusable_upload_is_refused(client_for, content, message):
    response = upload(client_for("marketing"), content)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_mapping_errors_are_shown_and_nothing_starts(client_for):
    client = client_for("marketing")
    upload(client)
    job = ImportJob.objects.get()
    form = mapping_form(job, target_1="email")  # two columns to one field
    response = client.post(reverse("imports:mapping", args=[job.pk]), form)
    assert response.status_code == 400
    assert "both map to email" in response.content.decode()
    form = mapping_form(job, target_1="shoe_size")
    assert (
        "choose a target"
        in client.post(reverse("imports:mapping", args=[job.pk]), form).content.decode()
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DRAFT


def test_download_and_save_the_mapping_then_reuse_it(
    client_for, django_capture_on_commit_callbacks
):
    client = client_for("marketing")
    upload(client)
    job = ImportJob.objects.get()
    response = client.post(
        reverse("imports:mapping", args=[job.pk]), mapping_form(job, action="download")
    )
    built = json.loads(response.content)
    assert response["Content-Disposition"] == 'attachment; filename="leads.mapping.json"'
    assert built["columns"]["Signed up"] == "captured_at"
    assert built["dates"] == {"Signed up": "%d-%m-%Y"}

    client.post(
        reverse("imports:mapping", args=[job.pk]),
        mapping_form(job, action="save", mapping_name="Webinar list"),
    )
    saved = ImportMapping.objects.get(name="Webinar list")
    assert saved.mapping["columns"]["Signed up"] == "captured_at"

    # a second upload with the saved mapping starts from it
    upload(client, name="again.csv", saved_mapping=str(saved.pk))
    second = ImportJob.objects.get(original_name="again.csv")
    assert second.mapping["dates"] == {"Signed up": "%d-%m-%Y"}
    # and an uploaded mapping file works the same
    mapping_file = SimpleUploadedFile("m.json", json.dumps(built).encode(), "application/json")
    upload(client, name="third.csv", mapping_file=mapping_file)
    assert ImportJob.objects.get(original_name="third.csv").mapping["columns"] == built["columns"]


def test_bad_mapping_file_upload_is_explained(client_for):
    bad = SimpleUploadedFile("m.json", b'{"columns": {"E-mail": "emale"}}', "application/json")
    response = upload(client_for("marketing"), mapping_file=bad)
    assert response.status_code == 400
    assert "unknown field &#x27;emale&#x27;" in response.content.decode()


def test_failed_job_offers_resume(client_for, django_capture_on_commit_callbacks, monkeypatch):
    from leadpact.leads.services.imports import writer as writer_module

    client = client_for("marketing")
    upload(client)
    job = ImportJob.objects.get()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer_module, "timeline_events_bulk", boom)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:mapping", args=[job.pk]), mapping_form(job))
    job.refresh_from_db()
    assert job.status == "failed" and "disk full" in job.error
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert reverse("imports:resume", args=[job.pk]) in page
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:resume", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 2
    assert Lead.objects.count() == 2


def test_import_list_runs_a_fixed_number_of_queries(client_for, users, django_assert_num_queries):
    client = client_for("admin")
    client.get(reverse("imports:list"))  # warm the session and user caches

    def make(n: int) -> None:
        for i in range(n):
            ImportJob.objects.create(
                original_name=f"f{i}.csv", file_path="x", created_by=users["marketing"]
            )

    make(2)
    with django_assert_num_queries(4) as few:
        client.get(reverse("imports:list"))
    make(10)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("imports:list"))
