"""What every routing page starts with: role checks, integer parameters, going back."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from leadpact.routing.roles import can_have_queue, can_manage_routing, can_view_sla

View = Callable[..., HttpResponse]


def requires(check: Callable[[Any], bool], message: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


sales_only = requires(can_have_queue, "Only salespeople have a lead queue.")
managers_only = requires(can_manage_routing, "Only admins and sales managers manage routing.")
sla_viewers = requires(can_view_sla, "Sales reps see their deadlines in their queue.")


def list_end(action: str) -> str:
    """Which end of an ordered list a move "up" or "down" stops at."""
    return "top" if action == "up" else "bottom"
