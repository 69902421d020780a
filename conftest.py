"""Fixtures shared by every test: one user per role, logged-in clients, the datasets folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from leadpact.accounts.models import Role
from leadpact.factories import TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Every test starts with an empty cache (the in-process one; tests never set REDIS_URL), so
    a figure cached by one test is never read by the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def sales_team(db):
    return TeamFactory(name="Sales East", kind="sales")


@pytest.fixture
def users(db, sales_team) -> dict:
    """One user per role; the rep and the manager share ``sales_team``."""
    manager = UserFactory(username="manager", role=Role.SALES_MANAGER, team=sales_team)
    sales_team.manager = manager
    sales_team.save()
    return {
        "admin": UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True),
        "marketing": UserFactory(username="marketer", role=Role.MARKETING),
        "sales_rep": UserFactory(username="rep", role=Role.SALES_REP, team=sales_team),
        "other_rep": UserFactory(username="rep2", role=Role.SALES_REP),
        "sales_manager": manager,
    }


@pytest.fixture
def client_for(users):
    """``client_for("marketing")`` → a test client logged in as that role's user."""

    def make(role: str) -> Client:
        client = Client()
        client.force_login(users[role])
        return client

    return make


@pytest.fixture
def datasets_dir() -> Path:
    path = Path(settings.DATASETS_DIR)
    if not path.is_dir():
        pytest.skip(f"real data sets not found at {path} (../shared/datasets); skipping")
    return path
