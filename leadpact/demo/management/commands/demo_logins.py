"""``leadpact demo_logins``: print who to sign in as, with which password, to see what."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from leadpact.accounts.models import Role, User
from leadpact.demo.staff import STAFF


class Command(BaseCommand):
    help = "Print the demo logins: username, role, password and what to look at."

    def handle(self, *args: Any, **options: Any) -> None:
        existing = set(
            User.objects.filter(
                username__in=[m.username for m in STAFF], is_active=True
            ).values_list("username", flat=True)
        )
        members = [m for m in STAFF if m.username in existing]
        if not members:
            self.stdout.write("No demo users in this database; run `leadpact demo` first.")
            return
        rows = [("username", "role", "password", "what to look at")]
        rows += [
            (m.username, f"{Role(m.role).label} ({m.title})", m.password, m.look_at)
            for m in members
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = []
        for n, row in enumerate(rows):
            lines.append(
                "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
                + "  "
                + row[3]
            )
            if n == 0:
                lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(row[3]))
        self.stdout.write("Demo logins (sign in at /accounts/login/):\n" + "\n".join(lines))
