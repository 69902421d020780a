"""Section ``lead_list``: the lead list at a million leads, on SQLite and on PostgreSQL.

A fresh database gets 1,000,000 leads (``bench.seed``: realistic mixes of state, owner,
channel, campaign, first contact and score), then five cases are timed twice: the selector
``lead_page`` alone, and the whole page (``/leads/``: URL parsing, session, selector,
template) through Django's test client, signed in as a sales rep. The goal is 200 ms.
"""

from __future__ import annotations

from typing import Any

from bench.harness import in_database, scaled

LEADS = 1_000_000
GOAL_MS = 200
SELECTOR_REPEAT = 30
PAGE_REPEAT = 20
CASES: dict[str, dict[str, str]] = {
    "default_sort": {},
    "state_filter": {"state": "accepted"},
    "channel_by_score": {"channel": "paid_search", "sort": "-score"},
    "name_search": {"q": "maria sil"},
    "next_page": {},  # the default list, second page through the cursor
}


def run() -> dict[str, Any]:
    leads = scaled(LEADS, minimum=1000)
    result: dict[str, Any] = {
        "what": "p50/p95 ms per request; selector = lead_page(), page = GET /leads/ as a rep",
        "leads": leads,
        "goal_ms": GOAL_MS,
    }
    for engine in ("sqlite", "postgresql"):
        result[engine] = in_database(
            "bench.lead_list:measure", engine, label="lead_list", leads=leads, timeout=1500
        )
    return result


def measure(leads: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from bench.measure import percentiles, timed_ms
    from bench.seed import seed_leads
    from leadpact.accounts.models import User
    from leadpact.leads.selectors import lead_filters_from_params, lead_page

    seeded = seed_leads(leads)
    rep = User.objects.get(username="rep1")
    client = Client()
    client.force_login(rep)
    url = reverse("leads:list")
    cases: dict[str, Any] = {}
    for name, params in CASES.items():
        filters = lead_filters_from_params(params)
        first = lead_page(filters=filters)
        cursor = first.next_cursor if name == "next_page" else None
        query = {**params, **({"cursor": cursor} if cursor else {})}

        def select(filters=filters, cursor=cursor) -> None:
            page = lead_page(filters=filters, cursor=cursor)
            for lead in page.items:  # what the template reads
                _ = (lead.owner, lead.source_campaign)

        def get(query=query) -> None:
            response = client.get(url, query)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} {query} answered {response.status_code}")

        queries = _QueryCounter()
        with connection.execute_wrapper(queries):
            get()
        selector_ms = percentiles(timed_ms(select, repeat=SELECTOR_REPEAT))
        page_ms = percentiles(timed_ms(get, repeat=PAGE_REPEAT))
        cases[name] = {
            "params": query if name != "next_page" else {"cursor": "(page 2)"},
            "rows_on_page": len(first.items),
            "total": f"{first.total:,}{'+' if first.total_is_estimate else ''}",
            "selector_ms": {k: selector_ms[k] for k in ("p50", "p95", "max")},
            "page_ms": {k: page_ms[k] for k in ("p50", "p95", "max")},
            "page_queries": queries.count,
            "meets_goal": page_ms["p95"] <= GOAL_MS,
        }
    return {"vendor": connection.vendor, "seed": seeded["seconds"], "cases": cases}


class _QueryCounter:
    """Counts the SQL statements run while it wraps the connection (any DEBUG setting)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)
