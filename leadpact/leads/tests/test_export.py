import csv
import io

import pytest
from django.urls import reverse

from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_export_streams_the_filtered_list_and_neutralises_formulas(client_for):
    LeadFactory(first_name="=cmd|' /C calc'!A0", state=LeadState.MQL, company_name="@SUM(1)")
    LeadFactory(first_name="Ana", state=LeadState.MQL, phone="+44 20 7946 0958")
    LeadFactory(first_name="Bo", state=LeadState.NEW)
    response = client_for("marketing").get(reverse("leads:export"), {"state": "mql"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = rows_of(response)
    assert sorted(r["first_name"] for r in rows) == ["'=cmd|' /C calc'!A0", "Ana"]
    formula_row = next(r for r in rows if r["first_name"].startswith("'"))
    assert formula_row["company_name"] == "'@SUM(1)"
    assert next(r for r in rows if r["first_name"] == "Ana")["phone"] == "+44 20 7946 0958"


def test_export_walks_every_batch(client_for, monkeypatch):
    from leadpact.leads import selectors

    monkeypatch.setattr(selectors, "EXPORT_BATCH", 3)
    LeadFactory.create_batch(8)
    rows = rows_of(client_for("admin").get(reverse("leads:export")))
    assert len(rows) == 8
    assert len({r["id"] for r in rows}) == 8


def test_reps_may_not_export_and_bad_filters_are_explained(client_for):
    assert client_for("sales_rep").get(reverse("leads:export")).status_code == 403
    bad = client_for("sales_manager").get(reverse("leads:export"), {"state": "nope"})
    assert bad.status_code == 400
    assert "not a lead state" in bad.content.decode()


def test_the_list_links_to_an_export_of_what_it_shows(client_for):
    page = client_for("marketing").get(reverse("leads:list"), {"state": "mql"})
    assert f"{reverse('leads:export')}?state=mql" in page.content.decode()
    rep_page = client_for("sales_rep").get(reverse("leads:list"))
    assert reverse("leads:export") not in rep_page.content.decode()
