import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leadpact.accounts.models import ApiToken
from leadpact.accounts.services import api_token_create, api_token_revoke, user_deactivate
from leadpact.accounts.tokens import hash_token
from leadpact.common.errors import ApplicationError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_only_the_hash_of_a_token_is_stored(users):
    token, raw = api_token_create(user=users["marketing"], name="website")
    assert raw.startswith("lp_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_token(raw)
    assert raw not in {stored.key_hash, stored.prefix, stored.name}


def test_token_authenticates_until_revoked(users):
    token, raw = api_token_create(user=users["marketing"], name="website")
    assert bearer(raw).get(reverse("api:tokens")).status_code == 200
    api_token_revoke(token=token, actor=users["marketing"])
    response = bearer(raw).get(reverse("api:tokens"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid or revoked API token."


def test_a_made_up_or_malformed_token_is_refused(users):
    assert bearer("lp_deadbeef_nope").get(reverse("api:tokens")).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token with spaces")
    assert client.get(reverse("api:tokens")).status_code == 401


def test_deactivated_users_tokens_stop_working(users):
    _, raw = api_token_create(user=users["sales_rep"], name="laptop")
    user_deactivate(user=users["sales_rep"], actor=users["admin"])
    assert bearer(raw).get(reverse("api:tokens")).status_code == 401


def test_nobody_revokes_someone_elses_token(users):
    token, _ = api_token_create(user=users["sales_rep"], name="laptop")
    with pytest.raises(PermissionDeniedError):
        api_token_revoke(token=token, actor=users["other_rep"])
    client = APIClient()
    client.force_authenticate(users["other_rep"])
    response = client.post(reverse("api:token-revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_api_creates_and_lists(users):
    client = APIClient()
    client.force_authenticate(users["sales_rep"])
    created = client.post(reverse("api:tokens"), {"name": "CLI"}, format="json")
    assert created.status_code == 201
    assert created.json()["token"].startswith("lp_")
    listed = client.get(reverse("api:tokens")).json()
    assert [t["name"] for t in listed] == ["CLI"]
    assert "token" not in listed[0]


def test_token_api_rejects_bad_input(users):
    client = APIClient()
    client.force_authenticate(users["sales_rep"])
    assert client.post(reverse("api:tokens"), {}, format="json").status_code == 400
    unknown = client.post(reverse("api:tokens"), {"name": "x", "scope": "all"}, format="json")
    assert unknown.status_code == 400
    assert "scope" in unknown.json()["error"]["details"]
    malformed = client.post(
        reverse("api:tokens"), data="{not json", content_type="application/json"
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "parse_error"
    with pytest.raises(ApplicationError):
        api_token_create(user=users["sales_rep"], name="   ")


def test_tokens_page_shows_the_secret_once(client_for):
    client = client_for("sales_rep")
    page = client.post(reverse("accounts:tokens"), {"name": "Zapier"})
    assert page.status_code == 200
    raw = page.context["new_token"]
    assert raw in page.content.decode()
    again = client.get(reverse("accounts:tokens"))
    assert raw not in again.content.decode()
    assert "Zapier" in again.content.decode()


def test_people_page_is_for_admins_only(client_for):
    assert client_for("admin").get(reverse("accounts:people")).status_code == 200
    for role in ("marketing", "sales_rep", "sales_manager"):
        assert client_for(role).get(reverse("accounts:people")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
