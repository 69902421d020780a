"""Section ``routing``: routing throughput and the SLA sweep over a million open clocks.

* ``route_leads_per_s``: 10,000 MQLs arriving at once, routed by ``leads_route`` (rules over a
  DataFrame, weighted round-robin over 20 reps with caps, then bulk writes: lead claims,
  offers, SLA clocks, timeline events, notifications). Target ≥ 500 leads/s.
* ``sweep_s``: one ``sla_sweep`` pass with 1,000,000 running clocks of which 1,000 are due a
  warning and 1,000 past their deadline (notifications, e-mail to the locmem backend,
  escalation); ``idle_sweep_s``: the next pass, when nothing is due (the every-minute cost).
  Target < 5 s. The clocks are inserted with one ``INSERT … SELECT`` (generate_series /
  a recursive CTE), so the set-up stays outside the measurement.

Measured on SQLite and PostgreSQL, each in a fresh database (``harness.in_database``).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from bench import harness

DUE = 1000


def run() -> dict[str, Any]:
    kwargs = {"leads": harness.scaled(10_000), "clocks": harness.scaled(1_000_000)}
    result = {
        "targets": {"route_leads_per_s": ">= 500", "sweep_s": "< 5"},
        "sqlite": harness.in_database("bench.routing:measure", "sqlite", label="routing", **kwargs),
        "postgresql": harness.in_database(
            "bench.routing:measure", "postgresql", label="routing", **kwargs
        ),
    }
    verdict = {}
    for engine in ("sqlite", "postgresql"):
        measured = result[engine]
        if "route_leads_per_s" in measured:
            verdict[f"{engine}_throughput_met"] = measured["route_leads_per_s"] >= 500
        if "sweep_s" in measured:
            verdict[f"{engine}_sweep_met"] = measured["sweep_s"] < 5
    result["verdict"] = verdict
    return result


def _seed_people() -> tuple[Any, list[Any]]:
    from leadpact.accounts.models import Role, Team, User
    from leadpact.routing.models import RepAvailability, RoutingRule, SlaPolicy

    team = Team.objects.create(name="Bench sales", kind=Team.Kind.SALES)
    manager = User.objects.create(username="bench-manager", role=Role.SALES_MANAGER, team=team)
    team.manager = manager
    team.save()
    reps = User.objects.bulk_create(
        [
            User(username=f"bench-rep{i}", first_name=f"Rep{i}", role=Role.SALES_REP, team=team)
            for i in range(20)
        ]
    )
    reps = list(User.objects.filter(role=Role.SALES_REP).order_by("pk"))
    RepAvailability.objects.bulk_create(
        [RepAvailability(rep=r, weight=1 + i % 3, max_open_leads=800) for i, r in enumerate(reps)]
    )
    RoutingRule.objects.create(
        name="High scores",
        position=10,
        conditions=[{"field": "score", "op": "gte", "value": 90}],
        rep=reps[0],
    )
    RoutingRule.objects.create(
        name="Portugal",
        position=20,
        conditions=[{"field": "country", "op": "in", "value": ["Portugal", "Spain"]}],
        team=team,
    )
    RoutingRule.objects.create(name="Everyone else", position=30, conditions=[], team=team)
    SlaPolicy.objects.create(name="Answer", kind="offer_response", amount=4)
    SlaPolicy.objects.create(name="Contact", kind="first_contact", amount=2)
    return team, reps


def _route(n: int) -> dict[str, Any]:
    from django.utils import timezone

    from leadpact.leads.models import Lead
    from leadpact.routing.services.router import leads_route

    now = timezone.now()
    countries = ["Brazil", "Portugal", "Spain", "Chile", "India"]
    Lead.objects.bulk_create(
        [
            Lead(
                email=f"bench{i}@example.com",
                email_key=f"bench{i}@example.com",
                first_name=f"Lead{i}",
                country=countries[i % 5],
                state="mql",
                score=(i * 37) % 100,
                captured_at=now,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    start = time.perf_counter()
    result = leads_route()
    seconds = time.perf_counter() - start
    return {
        "leads": n,
        "offered": len(result.offered),
        "fallback": len(result.fallback),
        "route_s": round(seconds, 2),
        "route_leads_per_s": round(n / seconds),
    }


def _insert_clocks(n: int, policy_id: int, rep_id: int, team_id: int) -> float:
    """``n`` running clocks due in the future, then twice DUE of them made due now."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now().replace(microsecond=0)
    start = time.perf_counter()
    columns = "policy_id, rep_id, team_id, status, started_at, deadline_at, warn_at"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO routing_slaclock ({columns}) "
                "SELECT %s, %s, %s, 'running', %s, "
                "%s + interval '2 hours' + (g %% 5000) * interval '1 minute', "
                "%s + interval '1 hour' + (g %% 5000) * interval '1 minute' "
                "FROM generate_series(1, %s) AS g",
                [policy_id, rep_id, team_id, now, now, now, n],
            )
        else:
            text = now.strftime("%Y-%m-%d %H:%M:%S")
            cursor.execute(
                f"INSERT INTO routing_slaclock ({columns}) "
                "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < %s) "
                "SELECT %s, %s, %s, 'running', %s, "
                "datetime(%s, '+' || (120 + x %% 5000) || ' minutes'), "
                "datetime(%s, '+' || (60 + x %% 5000) || ' minutes') FROM g",
                [n, policy_id, rep_id, team_id, text, text, text],
            )
    seed_s = time.perf_counter() - start
    from leadpact.routing.models import SlaClock

    first = SlaClock.objects.order_by("pk").values_list("pk", flat=True).first() or 0
    SlaClock.objects.filter(pk__gte=first, pk__lt=first + DUE).update(
        warn_at=now - timedelta(minutes=1), deadline_at=now + timedelta(hours=1)
    )
    SlaClock.objects.filter(pk__gte=first + DUE, pk__lt=first + 2 * DUE).update(
        warn_at=now - timedelta(hours=2),
        warned_at=now - timedelta(hours=2),
        deadline_at=now - timedelta(minutes=1),
    )
    return seed_s


def measure(leads: int, clocks: int) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from leadpact.notifications.models import Notification
    from leadpact.routing.models import SlaClock, SlaPolicy
    from leadpact.routing.services.sweep import sla_sweep

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team, reps = _seed_people()
    result: dict[str, Any] = {"database": connection.vendor}
    result |= _route(leads)

    # The sweep: a separate policy so routing's own clocks don't blur the count.
    policy = SlaPolicy.objects.create(name="Bench", kind="offer_response", amount=8, team=None)
    SlaClock.objects.all().delete()
    Notification.objects.all().delete()
    result["seed_clocks_s"] = round(_insert_clocks(clocks, policy.pk, reps[1].pk, team.pk), 2)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE routing_slaclock")
    result["open_clocks"] = SlaClock.objects.filter(status="running").count()
    now = timezone.now()
    start = time.perf_counter()
    swept = sla_sweep(now=now)
    result["sweep_s"] = round(time.perf_counter() - start, 3)
    result["sweep"] = swept.as_dict()
    start = time.perf_counter()
    idle = sla_sweep(now=now)
    result["idle_sweep_s"] = round(time.perf_counter() - start, 3)
    result["idle_sweep"] = idle.as_dict()
    result["notifications"] = Notification.objects.count()
    return result
