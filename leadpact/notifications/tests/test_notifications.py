import pytest
from django.core import mail

from leadpact.notifications.models import Notification
from leadpact.notifications.selectors import unread_count
from leadpact.notifications.services import NotificationInput, notifications_mark_read, notify

pytestmark = pytest.mark.django_db


def test_notify_stores_and_mails_after_commit(users, django_capture_on_commit_callbacks):
    rep = users["sales_rep"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([NotificationInput(rep.pk, "sla_breach", "SLA breached", "Late")])
    assert Notification.objects.filter(user=rep).count() == 1
    assert mail.outbox == []  # nothing is mailed before the transaction commits
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [[rep.email]]


def test_mark_read_touches_only_your_own(users):
    rep, other = users["sales_rep"], users["other_rep"]
    notify(
        [NotificationInput(rep.pk, "x", "a"), NotificationInput(other.pk, "x", "b")], email=False
    )
    theirs = Notification.objects.get(user=other)
    assert notifications_mark_read(user=rep, ids=[theirs.pk]) == 0
    assert notifications_mark_read(user=rep) == 1
    assert (unread_count(user=rep), unread_count(user=other)) == (0, 1)


def test_the_nav_badge_counts_only_your_unread(users, client_for):
    from django.urls import reverse

    rep = users["sales_rep"]
    notify([NotificationInput(rep.pk, "x", "a"), NotificationInput(rep.pk, "x", "b")], email=False)
    assert (
        '<span class="count" title="2 unread">2</span>'
        in client_for("sales_rep").get(reverse("notifications:badge")).content.decode()
    )
    assert (
        "count" not in client_for("other_rep").get(reverse("notifications:badge")).content.decode()
    )
    notifications_mark_read(user=rep)
    assert (
        "count" not in client_for("sales_rep").get(reverse("notifications:badge")).content.decode()
    )
