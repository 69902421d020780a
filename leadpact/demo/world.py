"""Build (or reset) the demo world: staff and teams, a year of campaigns, leads, touches and
their timelines, a few likely duplicates and two web forms; the routing set-up, a sales
pipeline with a year of deals, and a live lead profile learned from the closed leads.

Everything is drawn from one seeded random generator (same seed, same world) and written with
bulk inserts in one transaction, so it takes seconds and leaves nothing half-built. Leads go
through ``clean_lead_input`` and ``new_lead_values`` like every other way leads arrive, and
timelines through ``timeline_events_bulk``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from leadpact.accounts.models import ApiToken, Team, User
from leadpact.accounts.services import team_create, user_create
from leadpact.campaigns.channels import channel_label
from leadpact.campaigns.models import Campaign, Touch, TouchKind
from leadpact.campaigns.services import campaign_create
from leadpact.common.errors import ApplicationError
from leadpact.demo.campaigns import CAMPAIGNS, FORMS
from leadpact.demo.deals import (
    DealHistory,
    DealSummary,
    Revenue,
    demo_pipeline,
    demo_pipeline_reset,
)
from leadpact.demo.funnel import Funnel, olist_funnel
from leadpact.demo.offers import OfferHistory, demo_offer_history
from leadpact.demo.profile import ProfileSummary, demo_profile, demo_profile_reset
from leadpact.demo.prospects import Prospect, ProspectMaker
from leadpact.demo.routing import RoutingSummary, demo_routing, demo_routing_reset
from leadpact.demo.staff import MANAGER, MARKETERS, STAFF, TEAMS, working_hours
from leadpact.demo.touches import TouchMaker, TouchPlan
from leadpact.leads.models import (
    Company,
    DuplicateCandidate,
    ImportJob,
    Lead,
    LeadState,
    TimelineEvent,
    WebForm,
)
from leadpact.leads.normalize import company_key
from leadpact.leads.records import clean_lead_input, new_lead_values
from leadpact.leads.services.dedupe import duplicates_scan_enqueue
from leadpact.leads.services.lifecycle import _owner_summary
from leadpact.leads.services.timeline import timeline_events_bulk
from leadpact.leads.services.webforms import web_form_create
from leadpact.routing.services.offers import NewOffer, offers_create
from leadpact.routing.services.policies import policy_create

DEFAULT_SEED = 20240601
DEFAULT_LEADS = 6000
DUPLICATES = 8
MAX_LEADS = 200_000
BATCH = 1000
SLA_POLICIES = (  # name, kind, business hours / days / MQLs
    ("Answer an offered lead within 8 business hours", "offer_response", 8),
    ("Contact an accepted lead within 2 business days", "first_contact", 2),
)


@dataclass
class DemoSummary:
    users: int = 0
    teams: int = 0
    campaigns: int = 0
    forms: int = 0
    companies: int = 0
    leads: int = 0
    duplicates: int = 0
    touches: int = 0
    events: int = 0
    notes: int = 0
    offers: int = 0
    states: dict[str, int] = field(default_factory=dict)
    funnel_source: str = ""
    routing: RoutingSummary | None = None
    offer_history: OfferHistory | None = None
    deals: DealSummary | None = None
    profile: ProfileSummary | None = None
    profile_skipped: str = ""  # why no profile went live (a world too small to learn from)
    seconds: float = 0.0


def demo_is_empty() -> bool:
    """The demo is built only into a database without users."""
    return not User.objects.exists()


@transaction.atomic
def demo_reset() -> None:
    """Delete everything the demo builds (and anything else in those tables)."""
    try:
        _delete_all()
    except ProtectedError as exc:
        blocking = sorted({type(obj)._meta.verbose_name_plural for obj in exc.protected_objects})
        raise ApplicationError(
            f"Can't reset: {', '.join(blocking)} still refer to the people or teams. "
            "Delete them first."
        ) from None


def _delete_all() -> None:
    demo_pipeline_reset()
    TimelineEvent.objects.all().delete()
    Touch.objects.all().delete()
    DuplicateCandidate.objects.all().delete()
    Lead.objects.filter(merged_into__isnull=False).update(merged_into=None)
    Lead.objects.all().delete()
    demo_routing_reset()
    demo_profile_reset()
    for model in (Company, WebForm, ImportJob, Campaign, ApiToken):
        model.objects.all().delete()
    Team.objects.update(manager=None)
    User.objects.all().delete()
    Team.objects.all().delete()


@transaction.atomic
def demo_build(
    *,
    seed: int = DEFAULT_SEED,
    leads: int = DEFAULT_LEADS,
    now: datetime | None = None,
    datasets_dir: Path | None = None,
) -> DemoSummary:
    """Build the demo world into an empty database; raises ``ApplicationError`` otherwise."""
    started = time.perf_counter()
    if not 50 <= leads <= MAX_LEADS:
        raise ApplicationError(f"The demo has between 50 and {MAX_LEADS:,} leads; got {leads}.")
    if not demo_is_empty():
        raise ApplicationError(
            "This database already has users, so the demo was not built. Run "
            "`leadpact demo --reset` to delete everything and build it again."
        )
    now = now or timezone.now()
    funnel = olist_funnel(Path(settings.DATASETS_DIR) if datasets_dir is None else datasets_dir)
    builder = _Builder(random.Random(seed), funnel, now, seed)
    summary = builder.build(leads)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


class _Builder:
    def __init__(self, rng: random.Random, funnel: Funnel, now: datetime, seed: int) -> None:
        self.rng = rng
        self.funnel = funnel
        self.now = now
        self.seed = seed
        self.summary = DemoSummary(funnel_source=funnel.source)
        self.users: dict[str, User] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.forms: dict[str, WebForm] = {}

    def build(self, count: int) -> DemoSummary:
        self._staff()
        self._campaigns()
        self._forms()
        self.summary.routing = demo_routing(
            manager=self.users[MANAGER], users=self.users, now=self.now
        )
        self._sla_policies()
        makers = ProspectMaker(self.rng, self.funnel, self.now)
        prospects = [makers.make(i) for i in range(count)]
        prospects.sort(key=lambda p: p.captured_at)
        originals = [p for p in prospects if p.journey.state != LeadState.DISQUALIFIED]
        picks = self.rng.sample(originals[: len(originals) * 3 // 4], min(DUPLICATES, count // 50))
        prospects += [makers.duplicate(count + n, p) for n, p in enumerate(picks)]
        self.summary.duplicates = len(picks)
        touch_maker = TouchMaker(self.rng, makers)
        touches = [touch_maker.make(p) for p in prospects]
        lead_ids = self._leads(prospects)
        touch_ids = self._touches(prospects, touches, lead_ids)
        self._timeline(prospects, touches, lead_ids, touch_ids)
        self._form_counts(touches)
        self._offers(prospects, lead_ids)
        self.summary.offer_history = demo_offer_history(
            prospects, lead_ids, users=self.users, now=self.now, seed=self.seed, at=self._at
        )
        self._deals(prospects, lead_ids)
        self._profile()
        # The same scan that follows every capture finds the duplicates for the duplicates page.
        duplicates_scan_enqueue([lead_ids[i] for i in range(count, len(prospects))])
        self.summary.states = dict(
            sorted(Counter(p.journey.state for p in prospects).items(), key=lambda kv: -kv[1])
        )
        return self.summary

    # --- people, campaigns, forms ----------------------------------------------------------
    def _staff(self) -> None:
        managers = {manager for _, manager in TEAMS.values()}
        by_name = {member.username: member for member in STAFF}
        for username in sorted(managers):
            self.users[username] = self._user(by_name[username], None)
        teams = {
            name: team_create(name=name, kind=kind, manager=self.users[manager])
            for name, (kind, manager) in TEAMS.items()
        }
        for member in STAFF:
            if member.username not in managers:
                self.users[member.username] = self._user(member, teams.get(member.team))
        for username in managers:
            team = teams.get(by_name[username].team)
            if team is not None:
                User.objects.filter(pk=self.users[username].pk).update(team=team)
                self.users[username].team = team
        self.summary.users = len(self.users)
        self.summary.teams = len(teams)

    @staticmethod
    def _user(member: Any, team: Team | None) -> User:
        return user_create(
            username=member.username,
            password=member.password,
            role=member.role,
            email=member.email,
            first_name=member.first_name,
            last_name=member.last_name,
            team=team,
            title=member.title,
        )

    def _campaigns(self) -> None:
        today = self.now.date()
        for plan in CAMPAIGNS:
            campaign = campaign_create(
                actor=self.users[plan.owner],
                values={
                    "name": plan.name,
                    "code": plan.code,
                    "channel": plan.channel,
                    "cost": plan.cost,
                    "start_date": today - timedelta(days=plan.starts),
                    "end_date": today - timedelta(days=plan.ends),
                    "utm_source": plan.utm_source,
                    "utm_medium": plan.utm_medium,
                    "utm_campaign": plan.code,
                    "description": plan.description,
                    "is_active": plan.ends == 0,
                },
            )
            self.campaigns[campaign.code] = campaign
        self.summary.campaigns = len(self.campaigns)

    def _forms(self) -> None:
        for plan in FORMS:
            self.forms[plan.key] = web_form_create(
                actor=self.users[MARKETERS[0]],
                values={
                    "name": plan.name,
                    "channel": plan.channel,
                    "campaign": self.campaigns.get(plan.campaign),
                },
            )
        self.summary.forms = len(self.forms)

    def _form_counts(self, touches: list[list[TouchPlan]]) -> None:
        """The forms' counters, as if every form-fill touch had been posted to them."""
        submissions = Counter(
            t.data["form"] for lead_touches in touches for t in lead_touches if "form" in t.data
        )
        for key, form in self.forms.items():
            WebForm.objects.filter(pk=form.pk).update(
                submissions=submissions[key], spam_blocked=submissions[key] // 40
            )

    # --- leads -----------------------------------------------------------------------------
    def _leads(self, prospects: list[Prospect]) -> list[int]:
        companies = self._companies(prospects)
        rows = []
        for prospect in prospects:
            record, errors = clean_lead_input(prospect.raw)
            if record is None:  # a bug in the generator, not bad user input
                raise RuntimeError(f"demo lead {prospect.raw['email']} is invalid: {errors}")
            campaign = self.campaigns.get(record.campaign)
            values = new_lead_values(record, campaign_id=campaign.pk if campaign else None)
            journey = prospect.journey
            owner = self.users[journey.owner] if journey.owner else None
            last = journey.steps[-1] if journey.steps else None
            rows.append(
                Lead(
                    **values,
                    company_id=companies.get(company_key(record.company_name)),
                    state=journey.state,
                    state_changed_at=(
                        self._at(prospect, last.day, last.actor is not None) if last else None
                    ),
                    owner=owner,
                    score=journey.score,
                    version=1 + len(journey.steps),
                )
            )
        created = Lead.objects.bulk_create(rows, batch_size=BATCH)
        self.summary.leads = len(created)
        return [lead.pk for lead in created]

    def _companies(self, prospects: list[Prospect]) -> dict[str, int]:
        plans: dict[str, Company] = {}
        for prospect in prospects:
            name = prospect.raw["company_name"]
            key = company_key(name)
            if key not in plans:
                plans[key] = Company(
                    name=name,
                    name_key=key,
                    domain=prospect.company.domain,
                    industry=prospect.company.industry,
                    country=prospect.company.country,
                )
        created = Company.objects.bulk_create(plans.values(), batch_size=BATCH)
        self.summary.companies = len(created)
        return {company.name_key: company.pk for company in created}

    def _touches(
        self, prospects: list[Prospect], touches: list[list[TouchPlan]], lead_ids: list[int]
    ) -> list[list[int]]:
        rows = []
        for prospect, lead_id, lead_touches in zip(prospects, lead_ids, touches, strict=True):
            for n, plan in enumerate(lead_touches):
                campaign = self.campaigns.get(plan.campaign)
                rows.append(
                    Touch(
                        lead_id=lead_id,
                        original_lead_id=lead_id,
                        campaign=campaign,
                        channel=plan.channel,
                        kind=plan.kind,
                        occurred_at=plan.occurred_at,
                        url=plan.url,
                        referrer=plan.referrer,
                        idempotency_key=f"demo:{self.seed}:{prospect.index}:{n}",
                        data=self._touch_data(plan),
                        **plan.utm,
                    )
                )
        created = iter(Touch.objects.bulk_create(rows, batch_size=BATCH))
        self.summary.touches = len(rows)
        return [[next(created).pk for _ in lead_touches] for lead_touches in touches]

    def _touch_data(self, plan: TouchPlan) -> dict[str, Any]:
        form = self.forms.get(plan.data.get("form", ""))
        return {"form": form.key, "form_name": form.name} if form else dict(plan.data)

    def _sla_policies(self) -> None:
        """The hand-off agreement between the teams, set by the sales manager."""
        manager = self.users[MANAGER]
        for name, kind, amount in SLA_POLICIES:
            policy_create(actor=manager, name=name, kind=kind, amount=amount)

    def _offers(self, prospects: list[Prospect], lead_ids: list[int]) -> None:
        """Pending offers, with their SLA clocks, for the leads still waiting for an answer:
        the reps' queues and the SLA pages then have work in them (some already overdue)."""
        for prospect, lead_id in zip(prospects, lead_ids, strict=True):
            journey = prospect.journey
            if journey.state != LeadState.OFFERED or not journey.owner:
                continue
            step, rep = journey.steps[-1], self.users[journey.owner]
            offers_create(
                [
                    NewOffer(
                        lead_id=lead_id,
                        rep_id=rep.pk,
                        team_id=rep.team_id,
                        rule_name=step.data.get("rule", ""),
                        explanation=step.reason,
                    )
                ],
                now=self._at(prospect, step.day),
                lead_names={lead_id: f"{prospect.raw['first_name']} {prospect.raw['last_name']}"},
            )
            self.summary.offers += 1

    # --- pipeline and profile --------------------------------------------------------------
    def _deals(self, prospects: list[Prospect], lead_ids: list[int]) -> None:
        """A separate random stream, so the leads stay the same whatever the deals draw."""
        history = DealHistory(
            rng=random.Random(f"{self.seed}:deals"),
            pipeline=demo_pipeline(),
            users=self.users,
            now=self.now,
            revenue=Revenue(self.funnel.monthly_revenue),
        )
        self.summary.deals = history.build(prospects, lead_ids)

    def _profile(self) -> None:
        """Learned from the closed leads; going live rescores the open ones (and routes the
        new MQLs once the build commits). A tiny world may have too little history."""
        try:
            with transaction.atomic():
                self.summary.profile = demo_profile(
                    author=self.users[MARKETERS[0]],
                    reviewer=self.users[MARKETERS[1]],
                    manager=self.users[MANAGER],
                )
        except ApplicationError as exc:
            self.summary.profile_skipped = exc.message

    # --- timelines -------------------------------------------------------------------------
    def _timeline(
        self,
        prospects: list[Prospect],
        touches: list[list[TouchPlan]],
        lead_ids: list[int],
        touch_ids: list[list[int]],
    ) -> None:
        events: list[dict[str, Any]] = []
        kinds = dict(TouchKind.choices)
        for prospect, lead_id, plans, ids in zip(
            prospects, lead_ids, touches, touch_ids, strict=True
        ):
            campaign = self.campaigns.get(prospect.campaign)
            form = self.forms.get(prospect.form)
            via = f"web form “{form.name}”" if form else "the tracking API"
            events.append(
                {
                    "lead_id": lead_id,
                    "kind": TimelineEvent.Kind.CREATED,
                    "summary": f"Captured from {channel_label(prospect.channel).lower()}"
                    + (f" ({campaign.name})" if campaign else "")
                    + f" via {via}",
                    "data": {"via": "demo", "channel": prospect.channel},
                    "occurred_at": prospect.captured_at,
                }
            )
            for plan, touch_id in zip(plans, ids, strict=True):
                where = self.campaigns[plan.campaign].name if plan.campaign else None
                events.append(
                    {
                        "lead_id": lead_id,
                        "kind": TimelineEvent.Kind.TOUCH,
                        "summary": f"{kinds[plan.kind]}: {where or channel_label(plan.channel)}",
                        "data": {"channel": plan.channel, "campaign": plan.campaign},
                        "occurred_at": plan.occurred_at,
                        "touch_id": touch_id,
                    }
                )
            events += self._journey_events(prospect, lead_id)
        self.summary.events = self._write_events(events)

    def _journey_events(self, prospect: Prospect, lead_id: int) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        state, owner = LeadState.NEW, None
        for step in prospect.journey.steps:
            at = self._at(prospect, step.day, step.actor is not None)
            actor = self.users.get(step.actor) if step.actor else None
            summary = f"{LeadState(state).label} → {LeadState(step.to).label}"
            data = {"from": str(state), "to": str(step.to), **step.data}
            if step.reason:
                summary += f" ({step.reason})"
                data["reason"] = step.reason
            if step.to == LeadState.OFFERED and step.owner:
                data["rep"] = self.users[step.owner].pk
            events.append(
                {
                    "lead_id": lead_id,
                    "kind": TimelineEvent.Kind.STATE_CHANGE,
                    "summary": summary,
                    "actor": actor,
                    "data": data,
                    "occurred_at": at,
                }
            )
            if step.owner_changes and step.owner != owner:
                before = self.users.get(owner) if owner else None
                after = self.users.get(step.owner) if step.owner else None
                events.append(
                    {
                        "lead_id": lead_id,
                        "kind": TimelineEvent.Kind.OWNER_CHANGE,
                        "summary": _owner_summary(before, after),
                        "actor": actor,
                        "data": {
                            "from": before.pk if before else None,
                            "to": after.pk if after else None,
                        },
                        "occurred_at": at,
                    }
                )
                owner = step.owner
            state = step.to
        for day, author, text in prospect.journey.notes:
            events.append(
                {
                    "lead_id": lead_id,
                    "kind": TimelineEvent.Kind.NOTE,
                    "summary": text.splitlines()[0][:120],
                    "body": text,
                    "actor": self.users[author],
                    "occurred_at": self._at(prospect, day, True),
                }
            )
            self.summary.notes += 1
        return events

    @staticmethod
    def _write_events(events: list[dict[str, Any]]) -> int:
        return timeline_events_bulk(events, batch_size=BATCH)

    def _at(self, prospect: Prospect, day: float, human: bool = False) -> datetime:
        """When ``day`` (days after capture) falls; a person's step (an answer, a note, a
        qualification) moves into the sales team's working hours, as people work then."""
        at = prospect.captured_at + timedelta(days=day)
        return min(self.now, working_hours(at) if human else at)
