"""``unread_notifications`` for the nav badge: one indexed COUNT per page."""

from __future__ import annotations

from django.http import HttpRequest

from leadpact.notifications.selectors import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": unread_count(user=user)}
