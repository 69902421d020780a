"""The shared form-post wrapper: success and refusal messages, and never a redirect off-site."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post


def _post(data: dict) -> object:
    request = RequestFactory().post("/somewhere/", data)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


@form_post("/default/")
def _view(request, outcome: str = "ok"):
    if outcome == "refused":
        raise ApplicationError("Not like that.")
    if outcome == "forbidden":
        raise PermissionDenied("No.")
    return "Done."


@pytest.mark.parametrize(
    ("back", "location"),
    [
        ("/pipeline/?pipeline=2", "/pipeline/?pipeline=2"),
        ("", "/default/"),
        ("//evil.example/x", "/default/"),
        ("https://evil.example/x", "/default/"),
        ("javascript:alert(1)", "/default/"),
    ],
)
def test_goes_back_only_within_the_site(back, location):
    response = _view(_post({"back": back}))
    assert response.status_code == 302 and response["Location"] == location


def test_success_and_refusal_become_messages():
    ok = _post({})
    _view(ok)
    assert [str(m) for m in get_messages(ok)] == ["Done."]
    refused = _post({})
    assert _view(refused, outcome="refused")["Location"] == "/default/"
    assert [(m.level_tag, str(m)) for m in get_messages(refused)] == [("error", "Not like that.")]
    with pytest.raises(PermissionDenied):
        _view(_post({}), outcome="forbidden")
