"""Section ``handoff``: capture → scored → routed → offered, end to end, per lead.

A lead is captured through ``lead_capture`` (the service behind POST /api/leads/ and the web
forms), scored at capture by the live profile (which makes every lead here an MQL), and routed
by the background job that scoring enqueues; it is *offered* once its Offer row is committed.
Per lead: the time from the start of its capture call until a poller (every 2 ms) sees its
offer. Two set-ups, each in a fresh database holding ``BASE_LEADS`` earlier leads (so the
likely-duplicate scan each capture queues meets real blocks), 20 reps, three rules, SLA
policies:

* ``sqlite``: in-process jobs (the thread pool ``make run`` uses, 2 threads);
* ``postgresql``: real Celery workers on the local Redis (db 14), as in production: one
  (``celery -A config worker``, prefork, 2 processes) on the default queue, where routing
  runs, and one (1 process, at a lower CPU priority: ``nice -n 10``) on the background
  queue, where the duplicate scans run.

Phases: ``latency`` (leads arriving one at a time at ``RATE_PER_S``: the p50/p95/p99 per
lead), ``burst`` (``BURST`` leads captured as fast as ``CLIENTS`` threads can: leads offered
per second, capture included) and, with the worker, ``backlog`` (``BURST`` leads captured
while the worker is stopped, then the worker started: how fast it routes what waits, i.e.
throughput through routing: ``routed_per_s``, from the start of the routing pass to its last
offer seen). Targets (issue #4): p95 < 50 ms, >= 500 leads/s.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench import harness
from bench.measure import percentiles

BASE_LEADS = 20_000
LATENCY_LEADS = 300
RATE_PER_S = 10
BURST = 1000
CLIENTS = 2
REDIS_URL = os.environ.get("LEADPACT_BENCH_REDIS", "redis://127.0.0.1:6379/14")
WORKER_ARGS = ("--pool=prefork", "--concurrency=2")  # the default queue: routing
BACKGROUND_WORKER_ARGS = ("--pool=prefork", "--concurrency=1")  # duplicate scans
# The background worker yields the CPU to routing (2 cores here): without it, the duplicate
# scans of a backlog slow its routing pass by half.
BACKGROUND_NICE = 10
POLL_S = 0.002
LOOK_BACK = 300  # offer ids
TARGETS = {"p95_ms": 50, "leads_per_s": 500}


def run() -> dict[str, Any]:
    kwargs = {
        "base": harness.scaled(BASE_LEADS, minimum=200),
        "latency_leads": harness.scaled(LATENCY_LEADS, minimum=30),
        "burst": harness.scaled(BURST, minimum=50),
    }
    result: dict[str, Any] = {
        "what": "lead_capture → scored (live profile) → routed (background job) → offer "
        "committed; ms per lead from the capture call to the offer seen by a 2 ms poller",
        "targets": {"p95_ms": "< 50 (PostgreSQL + Celery)", "leads_per_s": ">= 500"},
    }
    result["sqlite"] = harness.in_database(
        "bench.handoff:measure", "sqlite", label="handoff", mode="thread", **kwargs
    )
    if reason := _redis_unreachable():
        result["postgresql"] = {"skipped": reason}
    else:
        result["postgresql"] = harness.in_database(
            "bench.handoff:measure", "postgresql", label="handoff", mode="celery", **kwargs
        )
    result["verdict"] = _verdict(result)
    return result


def _redis_unreachable() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"Redis unreachable at {REDIS_URL}: {exc}"
    return None


def _verdict(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for engine in ("sqlite", "postgresql"):
        measured = result.get(engine) or {}
        p95 = measured.get("latency", {}).get("latency_ms", {}).get("p95")
        backlog = measured.get("backlog") or {}
        speed = backlog.get("routed_per_s") or (measured.get("burst") or {}).get("offered_per_s")
        if p95 is not None:
            out[f"{engine}_p95_met"] = p95 < TARGETS["p95_ms"]
        if speed is not None:
            out[f"{engine}_throughput_met"] = speed >= TARGETS["leads_per_s"]
    return out


# --- in the worker -------------------------------------------------------------------------


def measure(mode: str, base: int, latency_leads: int, burst: int) -> dict[str, Any]:
    from django.db import connection

    started = time.perf_counter()
    world = _prepare(base)
    result: dict[str, Any] = {
        "database": connection.vendor,
        "jobs": (
            f"Celery workers: default queue {' '.join(WORKER_ARGS)}, background queue "
            f"{' '.join(BACKGROUND_WORKER_ARGS)} at nice {BACKGROUND_NICE}"
            if mode == "celery"
            else "thread pool"
        ),
        "base_leads": base,
        "setup_s": round(time.perf_counter() - started, 1),
    }
    people = _payloads(base, latency_leads + 2 * burst + 20)
    warm, people = people[:20], people[20:]
    with _jobs(mode) as jobs:
        with jobs.running():
            _capture_and_wait(warm, world, clients=1, rate=RATE_PER_S)  # code and caches warm
            result["latency"] = _capture_and_wait(
                people[:latency_leads], world, clients=1, rate=RATE_PER_S
            )
            people = people[latency_leads:]
            result["burst"] = _capture_and_wait(people[:burst], world, clients=CLIENTS, rate=None)
        people = people[burst:]
        if jobs.can_stop:
            result["backlog"] = _backlog(people[:burst], world, jobs)
    result["duplicate_scan"] = _dedupe_state()
    return result


class _InProcess:
    can_stop = False

    @contextlib.contextmanager
    def running(self):
        yield


class _CeleryWorker:
    """Real ``celery -A config worker`` processes on this run's own queues (the default one
    and the background one), started and stopped at will."""

    can_stop = True

    def __init__(self, env: dict[str, str], queues: dict[str, tuple[tuple[str, ...], int]]):
        self.env = env
        self.queues = queues  # queue → (worker arguments, nice)
        self.log = Path(env.get("LEADPACT_VAR_DIR", "/tmp")) / "celery-handoff.log"

    def start(self, queue: str, args: tuple[str, ...], nice: int = 0) -> subprocess.Popen:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(
            [
                *(("nice", "-n", str(nice)) if nice else ()),
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                *args,
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],
            cwd=harness.REPO_ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )

    @contextlib.contextmanager
    def running(self):
        processes = [self.start(queue, *how) for queue, how in self.queues.items()]
        try:
            yield processes
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextlib.contextmanager
def _jobs(mode: str):
    if mode != "celery":
        from django.test import override_settings

        with override_settings(LEADPACT_JOBS="thread", CELERY_BROKER_URL=None):
            yield _InProcess()
        return
    import redis
    from django.db import connection
    from django.test import override_settings

    from config.celery import app

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    queue = f"bench-handoff-{uuid.uuid4().hex[:8]}"
    background = f"{queue}-background"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": REDIS_URL,
        "LEADPACT_BACKGROUND_QUEUE": background,
    }
    env.pop("LEADPACT_JOBS", None)
    previous = (app.conf.broker_url, app.conf.task_default_queue)
    app.conf.broker_url, app.conf.task_default_queue = REDIS_URL, queue
    try:
        with override_settings(CELERY_BROKER_URL=REDIS_URL, LEADPACT_BACKGROUND_QUEUE=background):
            yield _CeleryWorker(
                env,
                {queue: (WORKER_ARGS, 0), background: (BACKGROUND_WORKER_ARGS, BACKGROUND_NICE)},
            )
    finally:
        app.conf.broker_url, app.conf.task_default_queue = previous
        with contextlib.suppress(Exception):
            redis.Redis.from_url(REDIS_URL).delete(queue, background)


def _prepare(base: int) -> dict[str, Any]:
    """Reps, rules, SLA policies, a live profile every lead here passes, and ``base`` leads."""
    from bench.routing import _seed_people
    from leadpact.accounts.models import Role, User
    from leadpact.scoring.services.profiles import (
        profile_approve,
        profile_create_draft,
        profile_go_live,
        profile_propose,
    )

    _seed_people()
    marketer = User.objects.create(username="bench-marketer", role=Role.MARKETING)
    second = User.objects.create(username="bench-marketer2", role=Role.MARKETING)
    manager = User.objects.get(username="bench-manager")
    card = {
        "scaling": {"points_to_double_odds": 20.0, "base_score": 600.0, "base_odds": 1.0},
        "base_points": 55,  # 55-85 with the channel: every lead an MQL, routed by team
        "attributes": [
            {
                "attribute": "source_channel",
                "kind": "categorical",
                "bins": [
                    {"bin": "paid_search", "points": 30},
                    {"bin": "organic_search", "points": 20},
                    {"bin": "missing", "points": 0},
                ],
                "categories": {"paid_search": 0, "organic_search": 1},
                "unknown_points": 10,
            }
        ],
    }
    profile = profile_create_draft(actor=marketer, scorecard=card, threshold=50, source="bench")
    profile_propose(profile=profile, actor=marketer)
    profile_approve(profile=profile, actor=second)
    profile = profile_approve(profile=profile, actor=manager)
    profile_go_live(profile=profile, actor=marketer)
    _seed_leads(base)
    return {"marketer_id": marketer.pk}


def _seed_leads(n: int) -> None:
    """Earlier leads, as an import would have stored them (block keys included)."""
    from bench.synthetic import SyntheticLeads
    from leadpact.common.bulk import bulk_insert
    from leadpact.leads.models import Lead
    from leadpact.leads.records import clean_lead_input, new_lead_values

    rows = []
    for person in SyntheticLeads(seed=11).people(n):
        record, _ = clean_lead_input(person.capture_fields())
        if record is not None:
            rows.append(new_lead_values(record, campaign_id=None))
        if len(rows) >= 5000:
            bulk_insert(Lead, rows)
            rows = []
    bulk_insert(Lead, rows)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE leads_lead")


def _payloads(start: int, n: int) -> list[dict[str, Any]]:
    """New people (e-mails not seen before) from the same population as the stored leads."""
    from bench.synthetic import SyntheticLeads

    return [p.capture_fields() for p in SyntheticLeads(seed=11).people(n, start=start)]


class _OfferWatch:
    """Polls the offers table and notes when each lead's first offer is seen."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.seen_wall: dict[int, float] = {}  # the same moments, as time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._last = 0

    def _poll(self) -> None:
        from django.db import connection

        from leadpact.routing.models import Offer

        # Plain SQL: the poller shares the process (and its GIL) with the capturing clients,
        # so each poll should cost as little as it can (the ORM took ~1.4 ms a poll here).
        table = connection.ops.quote_name(Offer._meta.db_table)
        poll = f"SELECT id, lead_id FROM {table} WHERE id > %s"
        try:
            self._last = Offer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            self._last += LOOK_BACK  # offers made before the watch began are not looked at
            while not self._stop.is_set():
                # Offers commit out of id order (two worker processes): look back a little.
                with connection.cursor() as cursor:
                    cursor.execute(poll, [self._last - LOOK_BACK])
                    rows = cursor.fetchall()
                now, wall = time.perf_counter(), time.time()
                for pk, lead_id in rows:
                    self.seen.setdefault(lead_id, now)
                    self.seen_wall.setdefault(lead_id, wall)
                    self._last = max(self._last, pk)
                time.sleep(POLL_S)
        finally:
            connection.close()

    def __enter__(self) -> _OfferWatch:
        self._thread.start()
        time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def wait_for(self, lead_ids: set[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if lead_ids <= self.seen.keys():
                return True
            time.sleep(0.01)
        return lead_ids <= self.seen.keys()


def _capture_all(
    payloads: list[dict[str, Any]], *, clients: int, rate: float | None
) -> dict[int, float]:
    """Capture every payload; lead id → perf_counter at the start of its capture call."""
    from django.db import connection

    from leadpact.leads.records import clean_lead_input
    from leadpact.leads.services.capture import lead_capture

    started: dict[int, float] = {}
    lock = threading.Lock()
    cursor = iter(range(len(payloads)))
    begin = time.perf_counter()

    def client() -> None:
        try:
            for i in cursor:
                if rate:
                    delay = begin + i / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                t0 = time.perf_counter()
                record, _ = clean_lead_input(payloads[i])
                if record is None:
                    continue
                result = lead_capture(record=record, actor=None, via="bench")
                with lock:
                    started[result.lead.pk] = t0
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started


def _capture_and_wait(
    payloads: list[dict[str, Any]], world: dict[str, Any], *, clients: int, rate: float | None
) -> dict[str, Any]:
    with _OfferWatch() as watch:
        t0 = time.perf_counter()
        started = _capture_all(payloads, clients=clients, rate=rate)
        captured_s = time.perf_counter() - t0
        complete = watch.wait_for(set(started), timeout=120)
    return _summary(started, watch.seen, captured_s, complete, clients=clients, rate=rate)


def _backlog(payloads: list[dict[str, Any]], world: dict[str, Any], jobs: Any) -> dict[str, Any]:
    """Capture with the worker stopped (the jobs wait in Redis), then start it."""
    t0 = time.perf_counter()
    started = _capture_all(payloads, clients=CLIENTS, rate=None)
    captured_s = time.perf_counter() - t0
    with _OfferWatch() as watch:
        worker_started = time.perf_counter()
        with jobs.running():
            complete = watch.wait_for(set(started), timeout=300)
    seen = [watch.seen[k] for k in started if k in watch.seen]
    span = (max(seen) - min(seen)) if len(seen) > 1 else 0.0
    whole = (max(seen) - worker_started) if seen else 0.0
    routing = _routing_seconds(started, watch.seen_wall)
    return {
        "leads": len(started),
        "captured_s": round(captured_s, 2),
        "offered": len(seen),
        "complete": complete,
        "first_to_last_offer_s": round(span, 2),
        "worker_start_to_last_offer_s": round(whole, 2),
        "offered_per_s": round(len(seen) / whole, 1) if whole else None,
        "routing_s": round(routing, 3) if routing else None,
        "routed_per_s": round(len(seen) / routing, 1) if routing else None,
        "what": "jobs queued while the worker was stopped, then the worker started: the first "
        "route job routes the whole backlog in one pass (one commit, so the first and the last "
        "offer appear together). offered_per_s counts from the worker's start, its start-up "
        "(a few seconds) included, so it is a lower bound; routed_per_s counts from the start "
        "of the routing pass (the offers' offered_at) to the last offer seen: the throughput "
        "through routing",
    }


def _routing_seconds(started: dict[int, float], seen_wall: dict[int, float]) -> float | None:
    """From the earliest routing pass's start (its offers' ``offered_at``) to the last offer
    seen, in seconds."""
    from django.db.models import Min

    from leadpact.routing.models import Offer

    ids = [k for k in started if k in seen_wall]
    if not ids:
        return None
    first = Offer.objects.filter(lead_id__in=ids).aggregate(first=Min("offered_at"))["first"]
    return max(seen_wall[k] for k in ids) - first.timestamp() if first else None


def _summary(
    started: dict[int, float],
    seen: dict[int, float],
    captured_s: float,
    complete: bool,
    *,
    clients: int,
    rate: float | None,
) -> dict[str, Any]:
    latencies = [(seen[k] - t) * 1000 for k, t in started.items() if k in seen]
    end = max((seen[k] for k in started if k in seen), default=None)
    first = min(started.values(), default=None)
    span = (end - first) if end is not None and first is not None else 0.0
    return {
        "leads": len(started),
        "clients": clients,
        "arrival_per_s": rate,
        "offered": len(latencies),
        "complete": complete,
        "captured_s": round(captured_s, 2),
        "capture_per_s": round(len(started) / captured_s, 1) if captured_s else None,
        "offered_per_s": round(len(latencies) / span, 1) if span else None,
        "latency_ms": percentiles(latencies),
    }


def _dedupe_state() -> dict[str, int]:
    from leadpact.leads.models import DuplicateCandidate, DuplicateScanQueue
    from leadpact.routing.models import FallbackItem

    return {
        "still_queued": DuplicateScanQueue.objects.count(),
        "candidates": DuplicateCandidate.objects.count(),
        "leads_in_fallback_queue": FallbackItem.objects.count(),  # expected 0
    }
