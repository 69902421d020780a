"""Acceptance: the real public data sets through the real importer and the example mappings."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from leadpact.campaigns.models import Campaign, Touch
from leadpact.leads.models import Lead
from leadpact.leads.services.imports import import_file

pytestmark = [pytest.mark.django_db, pytest.mark.datasets]

EXAMPLES = Path(settings.BASE_DIR) / "examples"
OLIST_CHANNELS = {
    "organic_search": 2296,
    "paid_search": 1586,
    "social": 1350,
    "unknown": 1099,
    "direct_traffic": 499,
    "email": 493,
    "referral": 284,
    "other": 150,
    "display": 118,
    "other_publicities": 65,
    "not_set": 60,
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_olist_mqls(datasets_dir):
    path = datasets_dir / "olist_marketing_qualified_leads.csv"
    result = import_file(path, EXAMPLES / "olist_mqls.mapping.json")
    print(f"olist: {result.rows} rows, {result.rows_per_second:,.0f} rows/s")
    assert (result.rows, result.created, result.rejected, result.duplicates) == (8000, 8000, 0, 0)
    leads = Lead.objects.filter(external_source="olist")
    channels = dict(leads.values_list("source_channel").annotate(n=Count("id")))
    assert channels == OLIST_CHANNELS
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]
    lead = leads.select_related("source_campaign").get(external_id=first["mql_id"])
    day, month, year = first["first_contact_date"].split("-")
    assert lead.captured_at.date().isoformat() == f"{year}-{month}-{day}"
    assert lead.source_campaign.code == f"olist-lp-{first['landing_page_id']}"
    assert Campaign.objects.filter(code__startswith="olist-lp-").count() == len(
        {r["landing_page_id"] for r in rows}
    )
    pages = Counter(r["landing_page_id"] for r in rows)
    top, count = pages.most_common(1)[0]
    assert leads.filter(source_campaign__code=f"olist-lp-{top}").count() == count
    assert Touch.objects.filter(kind="form_fill").count() == 8000

    counts = (Lead.objects.count(), Touch.objects.count(), Campaign.objects.count())
    again = import_file(path, EXAMPLES / "olist_mqls.mapping.json")
    assert (again.created, again.merged, again.unchanged) == (0, 0, 8000)
    assert counts == (Lead.objects.count(), Touch.objects.count(), Campaign.objects.count())


def test_xeducation_leads(datasets_dir):
    path = datasets_dir / "xeducation_leads.csv"
    result = import_file(path, EXAMPLES / "xeducation.mapping.json")
    print(f"xeducation: {result.rows} rows, {result.rows_per_second:,.0f} rows/s")
    assert (result.rows, result.created, result.rejected) == (9240, 9240, 0)
    leads = Lead.objects.filter(external_source="xeducation")
    assert leads.count() == 9240
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]
    lead = leads.select_related("source_campaign").get(external_id=first["Prospect ID"])
    assert lead.source_channel == "chat"  # Olark Chat
    assert lead.source_campaign.code == "xed-api"  # Lead Origin
    assert lead.attributes["Lead Number"] == first["Lead Number"]
    assert lead.attributes["Converted"] == first["Converted"]
    assert "Specialization" not in lead.attributes  # "Select" means empty
    assert lead.city == ""  # "Select" too
    assert not any(
        "Select" in (a or {}).values() for a in leads.values_list("attributes", flat=True)
    )
    assert result.ignored_columns == ["(unnamed column 38)"]
    origins = Counter(r["Lead Origin"] for r in rows)
    assert (
        leads.filter(source_campaign__code="xed-landing-page-submission").count()
        == origins["Landing Page Submission"]
    )
    sources = Counter(r["Lead Source"] for r in rows)
    assert leads.filter(source_channel="direct_traffic").count() == sources["Direct Traffic"]
    again = import_file(path, EXAMPLES / "xeducation.mapping.json")
    assert (again.created, again.unchanged) == (0, 9240)
