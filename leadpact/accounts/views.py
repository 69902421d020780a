from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leadpact.accounts.models import ApiToken
from leadpact.accounts.roles import can_manage_people
from leadpact.accounts.selectors import api_token_list, team_list, user_list
from leadpact.accounts.services import api_token_create, api_token_revoke
from leadpact.common.errors import ApplicationError


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        try:
            _, new_token = api_token_create(user=request.user, name=request.POST.get("name", ""))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": api_token_list(user=request.user), "new_token": new_token},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("accounts:tokens")


@login_required
def people(request: HttpRequest) -> HttpResponse:
    if not can_manage_people(request.user):
        raise PermissionDenied("Only a revenue-operations admin manages users and teams.")
    return render(request, "accounts/people.html", {"users": user_list(), "teams": team_list()})
