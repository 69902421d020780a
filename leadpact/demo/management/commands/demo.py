"""``leadpact demo``: build the demo world into an empty database (``make run`` does this)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from leadpact.common.errors import ApplicationError
from leadpact.demo.world import (
    DEFAULT_LEADS,
    DEFAULT_SEED,
    MAX_LEADS,
    demo_build,
    demo_is_empty,
    demo_reset,
)


class Command(BaseCommand):
    help = (
        "Build a realistic demo company: staff and teams, a year of campaigns and about "
        "6,000 leads with touches and timelines, routing rules, a pipeline of deals and a "
        "live lead profile. Same --seed, same world."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
        parser.add_argument(
            "--leads",
            type=int,
            default=DEFAULT_LEADS,
            help=f"number of leads, 50 to {MAX_LEADS:,} (default {DEFAULT_LEADS:,})",
        )
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (and succeed) when the database already has users",
        )
        group.add_argument(
            "--reset",
            action="store_true",
            help="DELETE every lead, campaign, user and team first, then build the demo",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and not demo_is_empty():
            self.stdout.write("The database already has users; the demo was not built again.")
            return
        try:
            with transaction.atomic():  # a failed rebuild leaves the old data in place
                if options["reset"]:
                    self.stdout.write("Deleting every lead, campaign, user and team …")
                    demo_reset()
                summary = demo_build(seed=options["seed"], leads=options["leads"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        states = ", ".join(f"{state} {count:,}" for state, count in summary.states.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world built in {summary.seconds:.1f} s: {summary.users} people in "
                f"{summary.teams} teams, {summary.campaigns} campaigns, {summary.forms} web forms, "
                f"{summary.leads:,} leads ({summary.duplicates} likely duplicates) at "
                f"{summary.companies:,} companies, {summary.touches:,} touches, "
                f"{summary.events:,} timeline events ({summary.notes} notes)."
            )
        )
        self.stdout.write(f"Lead states: {states}; {summary.offers} offers await an answer.")
        self.stdout.write(
            f"Channel mix and close rates from the Olist funnel ({summary.funnel_source})."
        )
        if summary.routing is not None:
            r = summary.routing
            self.stdout.write(
                f"Routing: {r.rules} rules, {r.calendars} team calendars, {r.reasons} rejection "
                f"reasons, a {r.checklist}-point qualification checklist."
            )
        if summary.deals is not None:
            d = summary.deals
            by_status = ", ".join(f"{k} {v:,}" for k, v in sorted(d.by_status.items()))
            self.stdout.write(
                f"Pipeline: {d.deals:,} deals ({by_status}), {d.events:,} deal events, "
                f"{d.activities:,} activities ({d.overdue_steps} next steps overdue); "
                f"{d.quotas} quotas and targets, {d.snapshots:,} weekly forecast snapshots."
            )
        if summary.offer_history is not None:
            h = summary.offer_history
            self.stdout.write(
                f"Hand-off history: {h.offers:,} answered offers ({h.accepted:,} accepted, "
                f"{h.rejected:,} rejected, {h.expired:,} expired and re-offered); SLA clocks "
                f"{h.clocks_met:,} met, {h.clocks_breached:,} breached, {h.clocks_running:,} "
                f"running, {h.clocks_paused} paused."
            )
        if summary.profile is not None:
            p = summary.profile
            self.stdout.write(
                f"Lead profile v{p.version} live (threshold {p.threshold}; "
                f"{', '.join(p.attributes)}): {p.rescored:,} open leads rescored, "
                f"{p.new_mqls:,} became MQLs and are being routed."
            )
        else:
            self.stdout.write(f"No lead profile went live: {summary.profile_skipped}")
        self.stdout.write("Run `leadpact demo_logins` for the logins.")
