"""The main menu (leadpact/common/context_processors.py) shows each role what it may open."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

EVERYONE = {"Leads", "Pipeline", "Quotas", "Campaigns", "Lead profile", "API tokens", "API docs"}
EXPECTED = {
    "admin": EVERYONE | {"Duplicates", "Imports", "Forms", "Routing", "SLA", "People"},
    "marketing": EVERYONE | {"Duplicates", "Imports", "Forms", "SLA"},
    "sales_manager": EVERYONE | {"My queue", "Duplicates", "Routing", "SLA"},
    "sales_rep": EVERYONE | {"My queue"},
}


def _menu(html: str) -> set[str]:
    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', html, re.S).group(1)
    user = re.search(r'<div class="usermenu">(.*?)</div>', html, re.S).group(1)
    return set(re.findall(r">([^<]+)</a>", nav)) | set(
        re.findall(r'class="usernav"[^>]*>([^<]+)</a>', user)
    )


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_menu_by_role(client_for, role):
    html = client_for(role).get(reverse("leads:list")).content.decode()
    assert _menu(html) == EXPECTED[role]
    assert '<a href="/leads/" aria-current="page">Leads</a>' in html


def test_anonymous_gets_no_menu(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert 'class="mainnav"' not in html
