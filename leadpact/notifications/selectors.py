from __future__ import annotations

from django.db.models import QuerySet

from leadpact.notifications.models import Notification


def notification_list(*, user: object, limit: int = 100) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def unread_count(*, user: object) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def unread(*, user: object) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True)
