from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leadpact.leads.models import Lead


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    leads = Lead.objects.filter(merged_into__isnull=True).select_related("owner")[:50]
    return render(request, "leads/list.html", {"leads": leads})
