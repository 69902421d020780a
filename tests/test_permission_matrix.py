"""Who may open or do what: every page and endpoint of the project, for every role.

``EXPECTED`` lists, per route, the roles that may use it. The test walks the URL conf, so a new
route without a row fails here until someone decides who may use it. For a role that may, the
answer is anything but "refused" (it may still be 400 for an empty form, 404 for another
person's object, 409 for a state conflict); for a role that may not, it is exactly 403, and
the anonymous visitor is sent to log in (pages) or answered 401/403 (API).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from leadpact.accounts.services import api_token_create
from leadpact.campaigns.services import campaign_create
from leadpact.factories import LeadFactory
from leadpact.leads.models import DuplicateCandidate, ImportJob, LeadState
from leadpact.leads.services.lifecycle import lead_offer
from leadpact.leads.services.webforms import web_form_create
from leadpact.pipeline.services.deals import DealInput, deal_create
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create
from leadpact.routing.models import RoutingRule, SlaPolicy

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "admin", "marketing", "sales_manager", "sales_rep", "other_rep")
ALL = frozenset(ROLES) - {"anonymous"}
PUBLIC = frozenset(ROLES)
FUNNEL = frozenset({"admin", "marketing", "sales_manager"})
MARKETING = frozenset({"admin", "marketing"})
MANAGERS = frozenset({"admin", "sales_manager"})
SALES = frozenset({"sales_rep", "other_rep", "sales_manager"})
# Acting on the rep's own lead or deal: the owner, their manager, admins.
OWNER = frozenset({"admin", "sales_manager", "sales_rep"})
OWNER_SALES = OWNER - {"admin"}
# A rep answering a lead offered to someone else is told so (a conflict, not a 403).
NOT_OWNER = frozenset({"other_rep"})
NONE = frozenset()


@dataclass
class World:
    users: dict[str, Any]
    lead: Any
    campaign: Any
    form: Any
    job: Any
    pair: Any
    rule: Any
    policy: Any
    deal: Any
    profile: Any
    tokens: dict[str, Any]


@pytest.fixture
def world(users) -> World:
    from leadpact.scoring.tests.pact import draft

    lead = LeadFactory(state=LeadState.MQL)
    lead_offer(lead=lead, rep=users["sales_rep"], actor=None)
    campaign = campaign_create(
        actor=users["marketing"],
        values={"name": "Spring", "code": "spring", "channel": "email"},
    )
    form = web_form_create(actor=users["marketing"], values={"name": "Contact us"})
    job = ImportJob.objects.create(
        created_by=users["marketing"], original_name="x.csv", file_path="/nonexistent/x.csv"
    )
    a = LeadFactory(first_name="Jon", last_name="Smith")
    b = LeadFactory(first_name="John", last_name="Smith")
    pair = DuplicateCandidate.objects.create(
        lead_a=min(a, b, key=lambda x: x.pk),
        lead_b=max(a, b, key=lambda x: x.pk),
        similarity=0.95,
        reason="same name",
    )
    rule = RoutingRule.objects.create(name="Everyone", conditions=[], rep=users["sales_rep"])
    policy = SlaPolicy.objects.create(
        name="Answer offers", kind=SlaPolicy.Kind.OFFER_RESPONSE, amount=4
    )
    pipeline_create(
        name="New business",
        stages=[
            StageInput("Discovery", 10),
            StageInput("Won", 100, kind="won"),
            StageInput("Lost", 0, kind="lost"),
        ],
    )
    deal = deal_create(
        data=DealInput(
            name="Acme",
            amount="1000.00",
            currency="EUR",
            close_date=timezone.localdate() + dt.timedelta(days=10),
            account_name="Acme",
            owner=users["sales_rep"],
        ),
        actor=users["sales_rep"],
    )
    tokens = {role: api_token_create(user=u, name="t")[0] for role, u in users.items()}
    return World(users, lead, campaign, form, job, pair, rule, policy, deal, draft(users), tokens)


Kwargs = Callable[[World, str], dict[str, Any]]


def lead(w: World, role: str) -> dict[str, Any]:
    return {"lead_id": w.lead.pk}


def api_lead(w: World, role: str) -> dict[str, Any]:
    return {"pk": w.lead.pk}


def job(w: World, role: str) -> dict[str, Any]:
    return {"job_id": w.job.pk}


def pair(w: World, role: str) -> dict[str, Any]:
    return {"candidate_id": w.pair.pk}


def campaign(w: World, role: str) -> dict[str, Any]:
    return {"pk": w.campaign.pk}


def fit_run(w: World, role: str) -> dict[str, Any]:
    from leadpact.scoring.models import FitRun

    run = FitRun.objects.create(source=FitRun.Source.HISTORY, actor=w.users["marketing"])
    return {"run_id": run.pk}


def deal(w: World, role: str) -> dict[str, Any]:
    return {"deal_id": w.deal.pk}


def _reason() -> int:
    from leadpact.pipeline.models import LostReason

    return LostReason.objects.get_or_create(label="Price")[0].pk


def profile(w: World, role: str) -> dict[str, Any]:
    return {"profile_id": w.profile.pk}


def own_token(w: World, role: str) -> dict[str, Any]:
    return {"pk": w.tokens.get(role, w.tokens["admin"]).pk}


def none(w: World, role: str) -> dict[str, Any]:
    return {}


def sla_clock(w: World, role: str) -> dict[str, Any]:
    """The running response clock of the world's offer (made inside the rolled-back call)."""
    from leadpact.routing.models import Offer, SlaClock

    offer = Offer.objects.get(lead=w.lead, status=Offer.Status.PENDING)
    now = timezone.now()
    clock, _ = SlaClock.objects.get_or_create(
        policy=w.policy,
        offer=offer,
        defaults={
            "lead": w.lead,
            "rep": offer.rep,
            "team_id": offer.team_id,
            "started_at": now,
            "deadline_at": now + dt.timedelta(days=3),
        },
    )
    return {"pk": clock.pk}


def business_calendar(w: World, role: str) -> dict[str, Any]:
    from leadpact.routing.models import BusinessCalendar

    calendar, _ = BusinessCalendar.objects.get_or_create(name="Matrix office")
    return {"pk": calendar.pk}


def rejection_reason(w: World, role: str) -> dict[str, Any]:
    from leadpact.routing.models import RejectionReason

    reason, _ = RejectionReason.objects.get_or_create(code="matrix", defaults={"label": "Matrix"})
    return {"pk": reason.pk}


def checklist_item(w: World, role: str) -> dict[str, Any]:
    from leadpact.routing.models import QualificationItem

    item, _ = QualificationItem.objects.get_or_create(label="Matrix item")
    return {"pk": item.pk}


@dataclass(frozen=True)
class Route:
    allowed: frozenset[str]
    method: str = "get"
    kwargs: Kwargs = none
    data: dict[str, Any] | None = None
    not_yours: frozenset[str] = frozenset()


def action(name: str) -> Kwargs:
    return lambda w, role: {"lead_id": w.lead.pk, "action": name}


def profile_action(name: str) -> Kwargs:
    return lambda w, role: {"profile_id": w.profile.pk, "action": name}


# Routes that are not about permissions (Django's admin checks is_staff itself).
SKIPPED_NAMESPACES = ("admin",)

EXPECTED: dict[str, Route] = {
    # --- public ------------------------------------------------------------------------------
    "home": Route(PUBLIC),
    "healthz": Route(PUBLIC),
    "accounts:login": Route(PUBLIC),
    "accounts:logout": Route(PUBLIC, "post"),
    "forms:capture": Route(PUBLIC, "post", lambda w, r: {"key": w.form.key}, {"email": "x"}),
    "api:schema": Route(PUBLIC),
    "api:docs": Route(PUBLIC),
    "api:redoc": Route(PUBLIC),
    # --- accounts ----------------------------------------------------------------------------
    "accounts:tokens": Route(ALL),
    "accounts:token_revoke": Route(ALL, "post", own_token),
    "accounts:people": Route(frozenset({"admin"})),
    "api:tokens": Route(ALL),
    "api:token-revoke": Route(ALL, "post", own_token),
    # --- the common lead view ----------------------------------------------------------------
    "leads:list": Route(ALL),
    "leads:export": Route(FUNNEL),
    "leads:detail": Route(ALL, kwargs=lead),
    "leads:note_add": Route(OWNER | {"marketing"}, "post", lead, {"body": "Left a message"}),
    "leads:act": Route(OWNER, "post", action("accept"), not_yours=NOT_OWNER),
    "api:leads": Route(ALL),
    "api:lead": Route(ALL, kwargs=api_lead),
    "api:lead-timeline": Route(ALL, kwargs=api_lead),
    "api:lead-notes": Route(OWNER | {"marketing"}, "post", api_lead, {"body": "Hello"}),
    "api:lead-transitions": Route(
        OWNER, "post", api_lead, {"action": "accept"}, not_yours=NOT_OWNER
    ),
    # --- imports, duplicates ------------------------------------------------------------------
    "imports:list": Route(MARKETING),
    "imports:upload": Route(MARKETING, "post"),
    "imports:detail": Route(MARKETING, kwargs=job),
    "imports:mapping": Route(MARKETING, kwargs=job),
    "imports:status": Route(MARKETING, kwargs=job),
    "imports:report": Route(MARKETING, kwargs=job),
    "imports:resume": Route(MARKETING, "post", job),
    "duplicates:list": Route(FUNNEL),
    "duplicates:scan": Route(MARKETING, "post"),
    "duplicates:merge": Route(FUNNEL, "post", pair),
    "duplicates:dismiss": Route(FUNNEL, "post", pair),
    "duplicates:unmerge": Route(FUNNEL, "post", pair),
    # --- campaigns and forms ------------------------------------------------------------------
    "campaigns:list": Route(ALL),
    "campaigns:detail": Route(ALL, kwargs=campaign),
    "campaigns:create": Route(MARKETING),
    "campaigns:edit": Route(MARKETING, kwargs=campaign),
    "campaigns:forms": Route(MARKETING),
    "campaigns:form_toggle": Route(MARKETING, "post", lambda w, r: {"pk": w.form.pk}),
    "api:campaigns": Route(ALL),
    "api:campaign": Route(ALL, kwargs=campaign),
    "api:touches-bulk": Route(MARKETING, "post", data={"touches": []}),
    # --- the hand-off ---------------------------------------------------------------------------
    # The queue pages are the salespeople's own; admins act from the lead page.
    "routing:queue": Route(SALES),
    "routing:accept": Route(OWNER_SALES, "post", lead, not_yours=NOT_OWNER),
    "routing:reject": Route(
        OWNER_SALES, "post", lead, {"reason": "No budget"}, not_yours=NOT_OWNER
    ),
    "routing:qualify": Route(OWNER_SALES, "post", lead),
    "routing:rules": Route(MANAGERS),
    "routing:rule_edit": Route(MANAGERS, "post", lambda w, r: {"pk": w.rule.pk}),
    # A rep sets their own availability; their manager and admins may too.
    "routing:availability": Route(OWNER, "post", lambda w, r: {"rep_id": w.users["sales_rep"].pk}),
    "routing:run": Route(MANAGERS, "post"),
    "routing:fallback": Route(MANAGERS),
    "routing:policies": Route(FUNNEL),
    "routing:policy_edit": Route(MANAGERS, "post", lambda w, r: {"pk": w.policy.pk}),
    "routing:compliance": Route(FUNNEL),  # ?format=csv is the same route and the same check
    "api:routing-offers": Route(SALES),
    "api:routing-accept": Route(OWNER, "post", lead, not_yours=NOT_OWNER),
    "api:routing-reject": Route(OWNER, "post", lead, {"reason": "No budget"}, not_yours=NOT_OWNER),
    "api:routing-qualify": Route(OWNER, "post", lead, {"checked": []}),
    "api:routing-rules": Route(MANAGERS),
    "api:routing-run": Route(MANAGERS, "post"),
    "api:sla-policies": Route(FUNNEL),
    # Pausing a clock: its rep, their manager, admins.
    "routing:clock_pause": Route(OWNER, "post", sla_clock, {"reason": "Waiting on the prospect"}),
    "routing:clock_resume": Route(OWNER, "post", sla_clock),
    "api:sla-clock-pause": Route(OWNER, "post", sla_clock, {"reason": "Waiting"}),
    "api:sla-clock-resume": Route(OWNER, "post", sla_clock),
    "routing:calendars": Route(MANAGERS),
    "routing:calendar_edit": Route(MANAGERS, kwargs=business_calendar),
    "routing:reasons": Route(MANAGERS),
    "routing:reason_edit": Route(MANAGERS, "post", rejection_reason, {"action": "up"}),
    "routing:checklist": Route(MANAGERS),
    "routing:checklist_edit": Route(MANAGERS, "post", checklist_item, {"action": "up"}),
    # --- the lead profile ------------------------------------------------------------------------
    "scoring:live": Route(ALL),
    "scoring:versions": Route(ALL),
    "scoring:version": Route(ALL, kwargs=profile),
    "scoring:edit": Route(MARKETING, "post", profile),
    "scoring:action": Route(MARKETING, "post", profile_action("propose")),
    "scoring:fit_history": Route(MARKETING, "post"),
    "scoring:fit_csv": Route(MARKETING, "post"),
    "api:profile-versions": Route(ALL),
    "api:profile-live": Route(ALL),
    "api:profile-action": Route(MARKETING, "post", profile_action("propose")),
    "api:profile-version": Route(ALL, kwargs=profile),
    "api:profile-fit": Route(MARKETING, "post"),
    # A fit's progress is read like the versions.
    "api:profile-fit-run": Route(ALL, kwargs=fit_run),
    # --- pipeline -----------------------------------------------------------------------------
    "pipeline:board": Route(ALL),
    "pipeline:deal_new": Route(SALES | {"admin"}),
    # Deals are worked by their owner and their manager, and read by marketing.
    "pipeline:deal": Route(OWNER | {"marketing"}, kwargs=deal),
    "pipeline:deal_edit": Route(OWNER, "post", deal),
    "pipeline:deal_move": Route(OWNER, "post", deal),
    "pipeline:activity_new": Route(OWNER, "post", deal, {"kind": "call", "outcome": "Talked"}),
    "pipeline:forecast": Route(ALL),
    "pipeline:review": Route(ALL),
    "api:pipeline-review": Route(ALL),
    # Bulk updates and the sales-process settings: sales managers and admins.
    "pipeline:bulk_update": Route(MANAGERS, "post"),
    "pipeline:process": Route(MANAGERS),
    "pipeline:pipeline_new": Route(MANAGERS, "post"),
    "pipeline:pipeline_edit": Route(
        MANAGERS, "post", lambda w, r: {"pipeline_id": w.deal.pipeline_id}
    ),
    "pipeline:stage_new": Route(MANAGERS, "post", lambda w, r: {"pipeline_id": w.deal.pipeline_id}),
    "pipeline:stage_edit": Route(MANAGERS, "post", lambda w, r: {"stage_id": w.deal.stage_id}),
    "pipeline:stage_shift": Route(MANAGERS, "post", lambda w, r: {"stage_id": w.deal.stage_id}),
    "pipeline:stage_remove": Route(MANAGERS, "post", lambda w, r: {"stage_id": w.deal.stage_id}),
    "pipeline:lost_reason_new": Route(MANAGERS, "post", data={"label": "Price"}),
    "pipeline:lost_reason_toggle": Route(MANAGERS, "post", lambda w, r: {"reason_id": _reason()}),
    "api:pipeline-deals": Route(ALL),
    "api:pipeline-deal": Route(OWNER | {"marketing"}, kwargs=deal),
    "api:pipeline-move": Route(OWNER, "post", deal),
    "api:pipeline-activities": Route(OWNER, "post", deal, {"kind": "call"}),
    "api:pipeline-pipelines": Route(ALL),
    "api:pipeline-stage": Route(MANAGERS, "delete", lambda w, r: {"stage_id": w.deal.stage_id}),
    "api:pipeline-pipeline": Route(ALL, kwargs=lambda w, r: {"pipeline_id": w.deal.pipeline_id}),
    "api:pipeline-stages": Route(
        MANAGERS, "post", lambda w, r: {"pipeline_id": w.deal.pipeline_id}
    ),
    "api:pipeline-lost-reasons": Route(ALL),
    "api:pipeline-lost-reason": Route(
        MANAGERS, "patch", lambda w, r: {"reason_id": _reason()}, {"is_active": False}
    ),
    "api:pipeline-deals-bulk": Route(MANAGERS, "post"),
    "api:pipeline-forecast": Route(ALL),
    # Quotas: everyone sees their own attainment; managers set sales quotas and adjust the
    # forecast, marketing sets its targets.
    "pipeline:quotas": Route(ALL),
    "pipeline:quota_set": Route(MANAGERS, "post", data={"period": "2026-11", "target": "1"}),
    "pipeline:target_set": Route(MARKETING, "post", data={"kind": "mqls", "period": "2026-11"}),
    "pipeline:adjustment_set": Route(MANAGERS, "post"),
    "api:pipeline-quotas": Route(ALL),
    "api:pipeline-attainment": Route(ALL),
    "api:pipeline-forecast-adjustments": Route(MANAGERS, "post"),
    "api:pipeline-forecast-accuracy": Route(ALL),
    # --- notifications --------------------------------------------------------------------------
    "notifications:list": Route(ALL),
    "notifications:read": Route(ALL, "post"),
    "notifications:badge": Route(ALL),
}


def route_names() -> set[str]:
    def walk(patterns: list[Any], namespace: str) -> set[str]:
        names: set[str] = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                if inner in SKIPPED_NAMESPACES:
                    continue
                prefix = f"{namespace}:{inner}" if namespace and inner else inner or namespace
                names |= walk(pattern.url_patterns, prefix)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
        return names

    return walk(get_resolver().url_patterns, "")


def test_every_route_has_a_row():
    assert route_names() == set(EXPECTED), "decide who may use the new route(s) in EXPECTED"


def call(world: World, name: str, role: str) -> Any:
    route = EXPECTED[name]
    url = reverse(name, kwargs=route.kwargs(world, role))
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    send = getattr(client, route.method)
    if route.method == "get":
        return send(url)
    if name.startswith("api:"):
        return send(url, data=route.data or {}, content_type="application/json")
    return send(url, data=route.data or {})


class _Rollback(Exception):
    pass


def call_and_undo(world: World, name: str, role: str) -> Any:
    """Call the route as ``role``, then roll back whatever it changed, so every role meets the
    same world."""
    response = None
    try:
        with transaction.atomic():
            response = call(world, name, role)
            raise _Rollback
    except _Rollback:
        pass
    return response


def flash(response: Any) -> str:
    storage = getattr(getattr(response, "wsgi_request", None), "_messages", None)
    return " | ".join(str(m) for m in getattr(storage, "_queued_messages", []))


def refused(response: Any, name: str, role: str) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.get("Location", "") if response.status_code in (301, 302) else ""
    return reverse("accounts:login") in location and name != "accounts:logout"


def told_not_theirs(response: Any) -> bool:
    if response.status_code == 409:
        return True
    return response.status_code == 302 and "someone else" in flash(response)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_role_may_do_what_it_should_and_nothing_else(world, name):
    route = EXPECTED[name]
    wrong = []
    for role in ROLES:
        response = call_and_undo(world, name, role)
        if response.status_code >= 500:
            wrong.append(f"{role}: {response.status_code}")
        elif role in route.allowed:
            if refused(response, name, role):
                wrong.append(f"{role} may, but was refused ({response.status_code})")
        elif role in route.not_yours:
            if not told_not_theirs(response):
                wrong.append(f"{role} should hear it is not theirs ({response.status_code})")
        elif role == "anonymous":
            if not refused(response, name, role):
                wrong.append(f"anonymous got {response.status_code}")
        elif response.status_code != 403:
            wrong.append(f"{role} may not, but got {response.status_code}")
    assert not wrong, f"{name}: " + "; ".join(wrong)
