"""Campaign pages: everyone signed in reads them; marketing and admins create and edit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from leadpact.accounts.roles import can_manage_campaigns
from leadpact.campaigns.channels import KNOWN_CHANNELS
from leadpact.campaigns.models import Campaign
from leadpact.campaigns.selectors import campaign_get, campaign_recent_touches
from leadpact.campaigns.selectors import campaign_list as campaigns_selected
from leadpact.campaigns.services import CAMPAIGN_TEXT_LIMITS, campaign_create, campaign_update
from leadpact.common.errors import ApplicationError

_FORM_FIELDS = (*CAMPAIGN_TEXT_LIMITS, "cost", "start_date", "end_date")


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    return render(
        request,
        "campaigns/list.html",
        {
            "campaigns": list(campaigns_selected(q=q)),
            "q": q,
            "may_manage": can_manage_campaigns(request.user),
        },
    )


def _get(pk: int) -> Campaign:
    try:
        return campaign_get(campaign_id=pk)
    except Campaign.DoesNotExist:
        raise Http404("No such campaign.") from None


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _get(pk)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "touches": campaign_recent_touches(campaign=campaign),
            "may_manage": can_manage_campaigns(request.user),
        },
    )


def _posted_values(request: HttpRequest) -> dict[str, Any]:
    values: dict[str, Any] = {name: request.POST.get(name, "") for name in _FORM_FIELDS}
    values["is_active"] = request.POST.get("is_active") == "on"
    return values


def _edit(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    if not can_manage_campaigns(request.user):
        raise PermissionDenied("Only marketing and admins create and edit campaigns.")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = _posted_values(request)
        try:
            if campaign is None:
                saved = campaign_create(actor=request.user, values=values)
            else:
                saved = campaign_update(campaign=campaign, actor=request.user, values=values)
        except ApplicationError as exc:
            errors = exc.extra.get("fields", {}) or {"campaign": exc.message}
        else:
            messages.success(request, f"Campaign “{saved.name}” saved.")
            return redirect("campaigns:detail", pk=saved.pk)
    elif campaign is not None:
        values = {name: getattr(campaign, name) for name in (*_FORM_FIELDS, "is_active")}
    else:
        values = {"currency": "USD", "cost": "0", "is_active": True}
    return render(
        request,
        "campaigns/form.html",
        {"campaign": campaign, "values": values, "errors": errors, "channels": KNOWN_CHANNELS},
        status=400 if errors else 200,
    )


@login_required
def campaign_create_page(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@login_required
def campaign_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, _get(pk))
