import json

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from leadpact.campaigns.models import Touch, TouchKind
from leadpact.factories import CampaignFactory, LeadFactory
from leadpact.leads.models import Lead, WebForm
from leadpact.leads.records import ATTRIBUTE_VALUE_MAX
from leadpact.leads.views.forms import FormCaptureThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()  # the throttle counts in the cache; each test starts from zero
    yield
    cache.clear()


@pytest.fixture
def webform():
    campaign = CampaignFactory(code="demo-page", channel="organic_search")
    return WebForm.objects.create(
        name="Demo request", key="demo123", campaign=campaign, channel="organic_search"
    )


def post_form(client, key, data, **extra):
    return client.post(f"/f/{key}", data, **extra)


def test_form_post_creates_a_lead_with_a_form_fill_touch(webform):
    client = Client(enforce_csrf_checks=True)
    response = post_form(
        client,
        webform.key,
        {
            "email": "Ann@Example.com",
            "first_name": "Ann",
            "company": "Acme",
            "utm_source": "google",
            "utm_medium": "cpc",
            "page_url": "https://www.example.com/demo",
            "team_size": "11-50",
        },
        HTTP_REFERER="https://www.google.com/",
    )
    assert response.status_code == 201
    assert response.json() == {"ok": True}
    lead = Lead.objects.get()
    assert (lead.email_key, lead.company_name) == ("ann@example.com", "Acme")
    assert lead.attributes == {"team_size": "11-50"}
    assert lead.source_campaign == webform.campaign
    assert lead.source_channel == "paid_search"  # utm_medium=cpc overrides the form's channel
    touch = Touch.objects.get()
    assert touch.kind == TouchKind.FORM_FILL and touch.campaign == webform.campaign
    assert touch.referrer == "https://www.google.com/" and touch.url.endswith("/demo")
    webform.refresh_from_db()
    assert (webform.submissions, webform.spam_blocked) == (1, 0)


def test_json_post_with_submission_id_is_idempotent(webform):
    body = {"email": "bo@example.com", "submission_id": "abc-1", "utm_campaign": "other"}
    first = Client().post(f"/f/{webform.key}", body, content_type="application/json")
    again = Client().post(f"/f/{webform.key}", body, content_type="application/json")
    assert first.status_code == again.status_code == 201
    assert Lead.objects.count() == 1 and Touch.objects.count() == 1
    touch = Touch.objects.get()
    assert touch.idempotency_key == "form:demo123:abc-1"
    # an unknown utm_campaign falls back to the form's campaign and is kept as text
    assert touch.campaign == webform.campaign and touch.utm_campaign == "other"
    webform.refresh_from_db()
    assert webform.submissions == 1


def test_utm_campaign_of_a_known_campaign_wins_over_the_forms():
    form = WebForm.objects.create(name="f", key="f1", campaign=CampaignFactory(code="a"))
    other = CampaignFactory(code="b", channel="social")
    Client().post("/f/f1", {"email": "c@example.com", "utm_campaign": "b"})
    assert Touch.objects.get().campaign == other
    assert Lead.objects.get().source_campaign == other
    assert form.campaign != other


def test_a_second_submission_merges_into_the_known_person(webform):
    LeadFactory(email="dee@example.com", first_name="Dee", title="")
    response = Client().post(f"/f/{webform.key}", {"email": "DEE@example.com", "title": "CFO"})
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.title == "CFO" and lead.first_name == "Dee"


def test_honeypot_answers_like_success_but_stores_nothing(webform):
    response = Client().post(
        f"/f/{webform.key}", {"email": "bot@example.com", webform.honeypot_field: "http://spam"}
    )
    assert response.status_code == 201 and response.json() == {"ok": True}
    assert not Lead.objects.exists() and not Touch.objects.exists()
    webform.refresh_from_db()
    assert (webform.submissions, webform.spam_blocked) == (0, 1)


def test_html_post_is_redirected_to_the_thank_you_page(webform):
    webform.redirect_url = "https://www.example.com/thanks"
    webform.save()
    response = Client().post(f"/f/{webform.key}", {"email": "e@example.com"})
    assert response.status_code == 303
    assert response["Location"] == "https://www.example.com/thanks"
    spam = Client().post(f"/f/{webform.key}", {"email": "x@example.com", "website": "x"})
    assert spam.status_code == 303  # bots see the same answer
    as_json = Client().post(
        f"/f/{webform.key}", {"email": "e@example.com"}, HTTP_ACCEPT="application/json"
    )
    assert as_json.status_code == 201


def test_unknown_or_closed_form_is_404_json(webform):
    response = Client().post("/f/nope", {"email": "a@example.com"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such form."
    webform.is_active = False
    webform.save()
    assert Client().post(f"/f/{webform.key}", {"email": "a@example.com"}).status_code == 404
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "Ann"}, "email"),
        ({"email": "a@example.com", "company": "x" * 201}, "company"),
        ({"email": "a@example.com", "phone": "12"}, "phone"),
        ({"email": "a@example.com", "utm_source": "u" * 101}, "utm_source"),
        ({"email": "a@example.com", "page_url": "p" * 501}, "page_url"),
        ({"email": "a@example.com", "notes": "n" * (ATTRIBUTE_VALUE_MAX + 1)}, "notes"),
        ({"email": "a@example.com", "submission_id": "s" * 101}, "submission_id"),
        ({"email": "a@example.com", "first_name": "=HYPERLINK(1)"}, "first_name"),
    ],
)
def test_bad_values_answer_400_naming_the_field(webform, data, field):
    response = Client().post(f"/f/{webform.key}", data)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]
    assert not Lead.objects.exists() and not Touch.objects.exists()


def test_json_with_nested_values_or_malformed_body_is_400(webform):
    nested = Client().post(
        f"/f/{webform.key}",
        {"email": "a@example.com", "tags": ["a", "b"]},
        content_type="application/json",
    )
    assert nested.status_code == 400
    assert "tags" in nested.json()["error"]["details"]["fields"]
    broken = Client().post(f"/f/{webform.key}", "{not json", content_type="application/json")
    assert broken.status_code == 400 and "error" in broken.json()
    listed = Client().post(f"/f/{webform.key}", json.dumps([1]), content_type="application/json")
    assert listed.status_code == 400
    assert not Lead.objects.exists()


def test_rate_limit_answers_429_json(webform, monkeypatch):
    monkeypatch.setattr(FormCaptureThrottle, "THROTTLE_RATES", {"form_capture": "2/min"})
    client = Client()
    codes = [
        client.post(f"/f/{webform.key}", {"email": f"r{i}@example.com"}).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]
    last = client.post(f"/f/{webform.key}", {"email": "r9@example.com"})
    assert last.json()["error"]["code"] == "throttled"
    assert Lead.objects.count() == 2
    other_client = Client(REMOTE_ADDR="10.0.0.9")
    assert other_client.post(f"/f/{webform.key}", {"email": "z@example.com"}).status_code == 201


@override_settings(CORS_ALLOWED_ORIGINS=["https://www.example.com"])
def test_cors_preflight_allows_a_configured_origin(webform):
    response = Client().options(
        f"/f/{webform.key}",
        HTTP_ORIGIN="https://www.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert "POST" in response["Access-Control-Allow-Methods"]
    other = Client().options(
        f"/f/{webform.key}",
        HTTP_ORIGIN="https://evil.example.net",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in other
    api = Client().options(
        "/api/leads/",
        HTTP_ORIGIN="https://www.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in api  # only /f/ is open to other sites


def test_response_never_leaks_the_lead_id(webform):
    response = Client().post(f"/f/{webform.key}", {"email": "q@example.com"})
    assert response.json() == {"ok": True}


# --- the management page -------------------------------------------------------------------


def test_marketing_creates_a_form_and_sees_its_snippet(client_for):
    campaign = CampaignFactory(code="launch")
    client = client_for("marketing")
    response = client.post(
        reverse("campaigns:forms"),
        {
            "name": "Launch signup",
            "campaign": str(campaign.pk),
            "channel": "social",
            "redirect_url": "https://example.com/thanks",
        },
    )
    assert response.status_code == 302
    form = WebForm.objects.get()
    assert (form.name, form.campaign, form.channel) == ("Launch signup", campaign, "social")
    page = client.get(reverse("campaigns:forms"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/f/{form.key}" in html and "Launch signup" in html
    assert "name=&quot;website&quot;" in html  # the honeypot is part of the snippet


def test_form_page_rejects_a_bad_redirect_and_keeps_nothing(client_for):
    response = client_for("admin").post(
        reverse("campaigns:forms"), {"name": "x", "redirect_url": "javascript:alert(1)"}
    )
    assert response.status_code == 400
    assert "redirect_url" in response.content.decode()
    assert not WebForm.objects.exists()


def test_closing_a_form_makes_it_404(client_for, webform):
    client_for("marketing").post(reverse("campaigns:form_toggle", args=[webform.pk]))
    webform.refresh_from_db()
    assert not webform.is_active
    assert Client().post(f"/f/{webform.key}", {"email": "a@example.com"}).status_code == 404


@pytest.mark.parametrize("role", ["sales_rep", "sales_manager"])
def test_sales_may_not_manage_forms(client_for, webform, role):
    client = client_for(role)
    assert client.get(reverse("campaigns:forms")).status_code == 403
    assert client.post(reverse("campaigns:forms"), {"name": "x"}).status_code == 403
    assert client.post(reverse("campaigns:form_toggle", args=[webform.pk])).status_code == 403
    webform.refresh_from_db()
    assert webform.is_active and WebForm.objects.count() == 1


def test_anonymous_is_sent_to_login(webform):
    response = Client().get(reverse("campaigns:forms"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
