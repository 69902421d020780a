"""Upload a CSV through the import page, map its columns, read the report, find the leads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadpact.leads.models import ImportJob, Lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "E-mail,First name,Last name,Company,Origin\n"
    "ada@engines.example,Ada,Lovelace,Analytical Engines,paid search\n"
    "grace@navy.example,Grace,Hopper,US Navy,social\n"
    "not-an-email,Eve,Mallory,Nowhere,social\n"
    "alan@bletchley.example,Alan,Turing,Bletchley Park,email\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_upload_a_csv_and_read_its_report(page_as, users, artifacts, tmp_path):
    csv_file = tmp_path / "trade-show.csv"
    csv_file.write_text(CSV)
    page = page_as(users["marketing"])
    page.click("nav.mainnav >> text=Imports")
    page.set_input_files("#import-file", str(csv_file))
    page.screenshot(path=artifacts / "import-upload.png")
    page.click("button:has-text('Upload and map columns')")
    page.wait_for_url("**/mapping")
    expect(page.locator("select[aria-label='Target of E-mail']")).to_have_value("email")
    page.screenshot(path=artifacts / "import-mapping.png", full_page=True)
    page.click("button:has-text('Start import')")

    expect(page.locator("#import-status .badge")).to_have_text("Done", timeout=30_000)
    expect(page.locator("#count-created")).to_have_text("3")
    expect(page.locator("#count-rejected")).to_have_text("1")
    page.screenshot(path=artifacts / "import-report.png", full_page=True)
    link = page.locator("a:has-text('Download the rejected rows')")
    report = page.request.get(link.get_attribute("href"))
    assert report.ok
    assert "not-an-email" in report.text() and "e-mail" in report.text()

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE
    assert (
        Lead.objects.filter(email_key__in=["ada@engines.example", "alan@bletchley.example"]).count()
        == 2
    )

    # the imported leads are in the shared list at once
    page.goto("/leads/?q=alan")
    expect(page.locator("#lead-results tbody tr")).to_have_count(1)
    expect(page.locator("#lead-results")).to_contain_text("Bletchley Park")
