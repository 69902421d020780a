"""Load a million leads in seconds, for the list benchmark: SQLite ``executemany`` and
PostgreSQL ``COPY``, with the secondary indexes dropped during the load and rebuilt after.

Only for benchmark databases: the rows are consistent by construction (valid owners and
campaigns, unique e-mails), so the load skips the ORM. Columns this module does not know
(added to ``Lead`` later) get their model default, so the loader keeps working as the model
grows. Runs inside a benchmark worker, with Django set up.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bench.synthetic import CAMPAIGN_CODES, SyntheticLeads

STATE_MIX: dict[str, float] = {  # shaped like the demo world's lifecycle
    "new": 0.33,
    "recycled": 0.27,
    "disqualified": 0.13,
    "accepted": 0.075,
    "won": 0.055,
    "lost": 0.05,
    "sql": 0.04,
    "mql": 0.035,
    "opportunity": 0.01,
    "offered": 0.005,
}
OWNED_STATES = {"offered", "accepted", "sql", "opportunity", "won", "lost"}
SCORE_MEAN = {"new": 30, "disqualified": 15, "recycled": 45, "won": 80, "lost": 60}
REPS = ("rep1", "rep2", "rep3", "rep4", "rep5")
CHUNK = 50_000
_NOT_PHONE = re.compile(r"[^\d+]")


def seed_world() -> dict[str, Any]:
    """Reps, a manager and the campaigns the synthetic leads name; returns their ids."""
    from leadpact.accounts.models import Role
    from leadpact.accounts.services import team_create, user_create
    from leadpact.campaigns.services import campaign_create

    manager = user_create(username="manager", password="bench-pass", role=Role.SALES_MANAGER)
    team = team_create(name="Bench sales", kind="sales", manager=manager)
    reps = [
        user_create(username=name, password="bench-pass", role=Role.SALES_REP, team=team)
        for name in REPS
    ]
    marketer = user_create(username="marketer", password="bench-pass", role=Role.MARKETING)
    campaigns = {
        code: campaign_create(
            actor=marketer, values={"name": code, "code": code, "channel": channel}
        ).pk
        for channel, codes in CAMPAIGN_CODES.items()
        for code in codes
    }
    return {"owners": [r.pk for r in reps] + [manager.pk], "campaigns": campaigns}


def seed_leads(n: int, *, seed: int = 1) -> dict[str, Any]:
    """Insert ``n`` leads; returns timings and the world's ids."""
    from django.db import connection, transaction

    from leadpact.leads.models import Lead

    world = seed_world()
    started = time.perf_counter()
    columns, rows = _rows(n, seed, world, connection.vendor)
    table = Lead._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql":
            timings = _load_postgresql(connection, table, columns, rows)
        else:
            timings = _load_sqlite(connection, table, columns, rows)
    timings["total_s"] = round(time.perf_counter() - started, 1)
    return {"rows": n, "seconds": timings, **world}


def _rows(
    n: int, seed: int, world: dict[str, Any], vendor: str
) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    from django.db import connection

    from leadpact.leads.models import Lead
    from leadpact.leads.normalize import company_key, fold

    g = np.random.default_rng(seed)
    states = list(STATE_MIX)
    state_idx = g.choice(len(states), n, p=np.array(list(STATE_MIX.values())))
    owners = world["owners"]
    owner_idx = g.integers(0, len(owners), n)
    means = np.array([SCORE_MEAN.get(state, 68) for state in states])
    scores = np.clip(means[state_idx] + g.normal(0, 10, n), 0, 100).astype(int)
    lag_hours = g.exponential(72, n)
    campaigns = world["campaigns"]
    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    defaults = {f.column: f.get_db_prep_save(f.get_default(), connection) for f in fields}
    names: dict[tuple[str, str], str] = {}
    companies: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}

    def moment(value: datetime) -> Any:
        """PostgreSQL takes the aware datetime; SQLite stores naive UTC text, as Django does."""
        return value if vendor == "postgresql" else value.replace(tzinfo=None).isoformat(" ")

    def generate() -> Iterator[tuple[Any, ...]]:
        slots: list[tuple[str, bool, Any]] | None = None
        for i, person in enumerate(SyntheticLeads(seed).people(n)):
            state = states[state_idx[i]]
            key = (person.first_name, person.last_name)
            if key not in names:
                names[key] = fold(f"{person.first_name} {person.last_name}")
            if person.company_name not in companies:
                companies[person.company_name] = company_key(person.company_name)
            profile = (person.segment, person.lead_type)
            if profile not in attributes:
                attributes[profile] = json.dumps({"segment": profile[0], "lead_type": profile[1]})
            captured = moment(person.captured_at)
            changed = moment(person.captured_at + timedelta(hours=float(lag_hours[i])))
            values = {
                "created_at": captured,
                "updated_at": changed,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": person.email,
                "email_key": person.email.lower(),
                "phone": _NOT_PHONE.sub("", person.phone),
                "title": person.title,
                "company_id": None,
                "company_name": person.company_name,
                "country": person.country,
                "city": person.city,
                "search_key": names[key],
                "company_key": companies[person.company_name],
                "source_channel": person.channel,
                "source_campaign_id": campaigns.get(person.campaign),
                "source_detail": "",
                "external_source": "",
                "external_id": None,
                "captured_at": captured,
                "state": state,
                "state_changed_at": None if state == "new" else changed,
                "owner_id": owners[owner_idx[i]] if state in OWNED_STATES else None,
                "score": int(scores[i]),
                "attributes": attributes[profile],
                "merged_into_id": None,
                "version": 1,
            }
            if slots is None:  # columns this loader does not fill get their model default
                slots = [(c, c in values, defaults[c]) for c in columns]
            yield tuple(values[c] if known else default for c, known, default in slots)

    return columns, generate()


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _load_sqlite(connection: Any, table: str, columns: list[str], rows) -> dict[str, float]:
    connection.ensure_connection()
    raw = connection.connection
    indexes = raw.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    for name, _ in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    started = time.perf_counter()
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'
    for chunk in _chunks(rows, CHUNK):
        raw.executemany(sql, chunk)
    inserted = time.perf_counter()
    for _, create in indexes:
        raw.execute(create)
    raw.execute(f'ANALYZE "{table}"')
    done = time.perf_counter()
    return {"insert_s": round(inserted - started, 1), "indexes_s": round(done - inserted, 1)}


def _load_postgresql(connection: Any, table: str, columns: list[str], rows) -> dict[str, float]:
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            (table, table),
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        # The rows are consistent by construction: skip the per-row foreign-key triggers.
        cur.execute("SET LOCAL session_replication_role = replica")
        started = time.perf_counter()
        quoted = ", ".join(f'"{c}"' for c in columns)
        with cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        inserted = time.perf_counter()
        cur.execute("SET LOCAL session_replication_role = origin")
        for _, create in indexes:
            cur.execute(create)
        cur.execute(f'ANALYZE "{table}"')
        done = time.perf_counter()
    return {"insert_s": round(inserted - started, 1), "indexes_s": round(done - inserted, 1)}
