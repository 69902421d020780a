"""Who may open which pipeline page: the checks every pipeline view starts with."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from leadpact.accounts.models import User
from leadpact.pipeline import selectors
from leadpact.pipeline.models import Deal
from leadpact.pipeline.policies import (
    can_edit_deal,
    can_use_pipeline,
    can_view_deal,
)


def pipeline_user(request: HttpRequest) -> User:
    user = request.user
    if not can_use_pipeline(user):
        raise PermissionDenied("Sign in with a leadpact role to see the pipeline.")
    return user  # type: ignore[return-value]


def deal_for(request: HttpRequest, deal_id: int, *, edit: bool) -> Deal:
    try:
        deal = selectors.deal_get(deal_id=deal_id)
    except Deal.DoesNotExist:
        from django.http import Http404

        raise Http404("No such deal.") from None
    allowed = can_edit_deal(request.user, deal) if edit else can_view_deal(request.user, deal)
    if not allowed:
        raise PermissionDenied("This deal belongs to someone else's team.")
    return deal
