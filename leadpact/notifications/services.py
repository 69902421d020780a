"""Sending in-app notifications (and the same message by e-mail, after commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from leadpact.notifications.models import Notification


@dataclass(frozen=True)
class NotificationInput:
    user_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""
    lead_id: int | None = None


def notify(items: Sequence[NotificationInput], *, email: bool = True) -> int:
    """Store ``items`` in one insert; when ``email``, mail each person once the caller commits.

    Mail goes out after commit so a rolled-back sweep never sends a message about something
    that did not happen.
    """
    if not items:
        return 0
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=i.user_id,
                kind=i.kind,
                title=i.title[:200],
                body=i.body,
                url=i.url[:300],
                lead_id=i.lead_id,
            )
            for i in items
        ],
        batch_size=2000,
    )
    if email:
        addresses = dict(
            get_user_model()
            .objects.filter(pk__in={i.user_id for i in items}, is_active=True)
            .exclude(email="")
            .values_list("pk", "email")
        )
        messages = [
            (i.title[:200], i.body or i.title, settings.DEFAULT_FROM_EMAIL, [addresses[i.user_id]])
            for i in items
            if i.user_id in addresses
        ]
        if messages:
            transaction.on_commit(partial(send_mass_mail, tuple(messages), fail_silently=True))
    return len(items)


def notifications_mark_read(*, user: object, ids: Sequence[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
