"""Django admin shows quotas, adjustments and snapshots read-only: they are set through the
pages and API, which record who set what."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["quota", "forecastadjustment", "forecastsnapshot"])
def test_admin_lists_but_cannot_add(client_for, model):
    client = client_for("admin")
    assert client.get(f"/admin/pipeline/{model}/").status_code == 200
    assert client.get(f"/admin/pipeline/{model}/add/").status_code == 403
