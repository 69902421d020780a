import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_and_logout(client, users):
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200
    wrong = client.post(reverse("accounts:login"), {"username": "rep", "password": "nope"})
    assert wrong.status_code == 200
    assert "didn't match" in wrong.content.decode()
    ok = client.post(reverse("accounts:login"), {"username": "rep", "password": "pass-12345"})
    assert ok.status_code == 302
    assert client.get(reverse("accounts:tokens")).status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("accounts:tokens")).status_code == 302


def test_deactivated_user_cannot_log_in(client, users):
    users["sales_rep"].is_active = False
    users["sales_rep"].save()
    response = client.post(reverse("accounts:login"), {"username": "rep", "password": "pass-12345"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
