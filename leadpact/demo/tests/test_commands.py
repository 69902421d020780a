"""``leadpact demo`` and ``leadpact demo_logins``: flags, refusals, and logins that work."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from leadpact.accounts.models import User
from leadpact.demo.staff import STAFF
from leadpact.leads.models import Lead

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_demo_twice_refuses_if_empty_skips_and_reset_rebuilds():
    assert "Demo world built" in run("demo", "--leads", "120")
    leads = Lead.objects.count()
    assert leads >= 120

    with pytest.raises(CommandError, match="--reset"):
        run("demo", "--leads", "120")
    assert "not built again" in run("demo", "--if-empty")
    assert Lead.objects.count() == leads

    assert "Demo world built" in run("demo", "--reset", "--leads", "200")
    assert 200 <= Lead.objects.count() < 220
    assert User.objects.count() == len(STAFF)


def test_demo_rejects_a_bad_lead_count():
    with pytest.raises(CommandError, match="between 50"):
        run("demo", "--leads", "3")
    assert not User.objects.exists()


def test_every_demo_login_works_and_is_printed():
    run("demo", "--leads", "100")
    table = run("demo_logins")
    for member in STAFF:
        assert member.username in table and member.password in table
        client = Client()
        assert client.login(username=member.username, password=member.password), member
        assert client.get(reverse("leads:list")).status_code == 200
    assert not Client().login(username="admin", password="wrong-password")


def test_demo_logins_without_demo():
    assert "run `leadpact demo` first" in run("demo_logins")
