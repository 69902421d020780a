from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from leadpact.common.numbers import is_whole_number
from leadpact.notifications.selectors import notification_list, unread_count
from leadpact.notifications.services import notifications_mark_read


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """A person's own notifications; nobody sees anyone else's."""
    return render(
        request,
        "notifications/list.html",
        {"notifications": notification_list(user=request.user)},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    raw = request.POST.getlist("id")
    ids = [int(v) for v in raw if is_whole_number(v)] if raw else None
    notifications_mark_read(user=request.user, ids=ids)
    return redirect("notifications:list")


@login_required
def badge(request: HttpRequest) -> HttpResponse:
    """The nav's unread count, fetched by the page after it loads (so pages keep their fixed
    number of queries) and refreshed every minute."""
    return render(request, "notifications/_badge.html", {"unread": unread_count(user=request.user)})
