"""Section ``pipeline``: the Monte Carlo forecast and the pipeline board at scale.

* ``monte_carlo``: 100,000 open deals x 10,000 trials (10⁹ Bernoulli draws) with the
  production simulator (``MonteCarloForecast``), one thread and two; seconds and memory
  (tracemalloc peak of numpy's buffers, and the process RSS growth). Target < 2 s, < 2 GB.
* ``board``: the board page (``/pipeline/``) rendered for a manager with 100,000 open deals in
  the database: median and P95 of 10 requests and the query count. It shows the 50
  soonest-closing deals per stage plus each stage's count and total, so the cost is the two
  aggregate queries, not the number of deals. Measured on SQLite and PostgreSQL.
* ``review``: the pipeline review page (``/pipeline/review/``) for the same manager with
  100,000 open deals plus 10,000 closed ones, each with a timeline spread over the past year
  (created, stage moves, close-date pushes, activity dates): median and P95 of 10 requests and
  the query count. The open deals are read as one grouped aggregate, the timeline only for the
  90-day history window (its stage entries cached for 10 minutes: ``page_ms`` is a review
  reopened, ``page_cold_ms`` one read afresh), and the same review from the REST API
  (``api_cold_ms``). Target < 300 ms on PostgreSQL. The seeded timeline is written as the
  services write it (stage columns beside the JSON), then vacuumed and analysed.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

from bench import harness, measure


def run() -> dict[str, Any]:
    deals = harness.scaled(100_000)
    return {
        "targets": {"monte_carlo_s": "< 2", "monte_carlo_peak_mb": "< 2048"},
        "monte_carlo": monte_carlo(deals=deals, trials=harness.scaled(10_000)),
        "monte_carlo_win_model": monte_carlo_win_model(deals=deals, trials=harness.scaled(10_000)),
        "board_sqlite": harness.in_database(
            "bench.pipeline:board", "sqlite", label="pipeline", deals=deals
        ),
        "board_postgresql": harness.in_database(
            "bench.pipeline:board", "postgresql", label="pipeline", deals=deals
        ),
        "review_postgresql": harness.in_database(
            "bench.pipeline:review", "postgresql", label="pipeline_review", deals=deals
        ),
    }


def monte_carlo(*, deals: int, trials: int) -> dict[str, Any]:
    import numpy as np

    from leadpact.pipeline.engine.simulator import MonteCarloForecast

    rng = np.random.default_rng(0)
    amounts = rng.lognormal(9, 1, deals)
    win = rng.uniform(0.05, 0.6, deals)
    slip = rng.uniform(0.0, 0.3, deals)
    out: dict[str, Any] = {"deals": deals, "trials": trials}
    for jobs in (1, 2):
        MonteCarloForecast(n_trials=200, n_jobs=jobs, random_state=0).fit(amounts, win, slip)
        tracemalloc.start()
        with measure.RssSampler() as rss:
            started = time.perf_counter()
            sim = MonteCarloForecast(n_trials=trials, n_jobs=jobs, random_state=0)
            sim.fit(amounts, win, slip)
            seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        p10, p50, p90 = sim.percentiles()
        out[f"threads_{jobs}"] = {
            "seconds": round(seconds, 2),
            "numpy_peak_mb": round(peak / 2**20, 1),
            "rss_growth_mb": round(rss.peak_mb - rss.start_mb, 1),
            "p10_p50_p90": [round(p10), round(p50), round(p90)],
            "mean_error_vs_exact": round(sim.revenue_.mean() / sim.expected_revenue_ - 1, 5),
        }
    return out


def monte_carlo_win_model(*, deals: int, trials: int) -> dict[str, Any]:
    """The production path of ``forecast_period``: per-deal win probabilities from the learned
    win model (fitted on 20,000 closed stage snapshots, cross-validated for its calibration),
    predicted for every open deal, then the simulation with the learned slip (one scalar)."""
    import numpy as np
    import pandas as pd

    from leadpact.pipeline.engine.simulator import MonteCarloForecast
    from leadpact.pipeline.engine.win_model import WinProbabilityModel

    rng = np.random.default_rng(1)

    def frame(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "stage": rng.choice(["Discovery", "Demo", "Proposal", "Negotiation"], n),
                "age_in_stage_days": rng.integers(0, 120, n),
                "amount": rng.lognormal(9, 1, n),
                "source_channel": rng.choice(["paid_search", "organic", "referral", "event"], n),
                "lead_score": rng.integers(0, 100, n),
            }
        )

    history = frame(20_000)
    logit = (
        -1.5
        + 0.02 * history["lead_score"]
        + history["stage"].map(
            {"Discovery": -0.5, "Demo": 0.0, "Proposal": 0.7, "Negotiation": 1.4}
        )
    )
    won = rng.uniform(size=len(history)) < 1 / (1 + np.exp(-logit.to_numpy()))
    started = time.perf_counter()
    model = WinProbabilityModel(random_state=0).fit(history, won)
    fit_s = time.perf_counter() - started
    open_deals = frame(deals)
    started = time.perf_counter()
    win = model.predict_proba(open_deals)
    predict_s = time.perf_counter() - started
    amounts = open_deals["amount"].to_numpy()
    MonteCarloForecast(n_trials=200, random_state=0).fit(amounts, win, 0.2)
    tracemalloc.start()
    with measure.RssSampler() as rss:
        started = time.perf_counter()
        sim = MonteCarloForecast(n_trials=trials, random_state=0).fit(amounts, win, 0.2)
        simulate_s = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "deals": deals,
        "trials": trials,
        "fit_s": round(fit_s, 2),
        "predict_s": round(predict_s, 2),
        "simulate_s": round(simulate_s, 2),
        "predict_and_simulate_s": round(predict_s + simulate_s, 2),
        "numpy_peak_mb": round(peak / 2**20, 1),
        "rss_growth_mb": round(rss.peak_mb - rss.start_mb, 1),
        "ece": round(model.ece_, 4),
        "auc": round(model.auc_, 3),
        "mean_error_vs_exact": round(sim.revenue_.mean() / sim.expected_revenue_ - 1, 5),
    }


def board(*, deals: int) -> dict[str, Any]:
    import datetime as dt
    from decimal import Decimal

    from django.test import Client
    from django.utils import timezone

    from leadpact.accounts.models import Role, Team, User
    from leadpact.pipeline.models import Deal
    from leadpact.pipeline.services.pipelines import StageInput, pipeline_create

    team = Team.objects.create(name="Bench sales", kind=Team.Kind.SALES)
    manager = User.objects.create(username="bench-mgr", role=Role.SALES_MANAGER, team=team)
    reps = User.objects.bulk_create(
        [User(username=f"bench-rep{i}", role=Role.SALES_REP, team=team) for i in range(50)]
    )
    reps = list(User.objects.filter(role=Role.SALES_REP))
    pipeline = pipeline_create(
        name="Bench",
        stages=[
            StageInput("Discovery", 10, exit_criteria=["Budget confirmed"]),
            StageInput("Demo", 25),
            StageInput("Proposal", 50),
            StageInput("Negotiation", 75),
            StageInput("Won", 100, kind="won"),
            StageInput("Lost", 0, kind="lost"),
        ],
    )
    stages = list(pipeline.stages.filter(kind="open"))
    now = timezone.now()
    today = timezone.localdate()
    started = time.perf_counter()
    batch: list[Deal] = []
    for i in range(deals):
        batch.append(
            Deal(
                name=f"Deal {i}",
                pipeline=pipeline,
                stage=stages[i % len(stages)],
                account_name=f"Account {i % 5000}",
                amount=Decimal(1000 + (i * 37) % 50_000),
                currency="EUR",
                close_date=today + dt.timedelta(days=i % 120),
                owner=reps[i % len(reps)],
                stage_entered_at=now,
            )
        )
        if len(batch) == 5000:
            Deal.objects.bulk_create(batch)
            batch = []
    Deal.objects.bulk_create(batch)
    seed_s = time.perf_counter() - started
    _planner_statistics()
    client = Client()
    client.force_login(manager)
    first, executed = _first_page(client, "/pipeline/")
    samples = measure.timed_ms(lambda: client.get("/pipeline/"), repeat=10, warmup=1)
    return {
        "open_deals": deals,
        "seed_s": round(seed_s, 1),
        "queries": len(executed),
        "page_ms": measure.percentiles(samples),
        "cards": first.content.decode().count("data-deal="),
    }


def _planner_statistics() -> None:
    """Refresh the planner's statistics after a bulk seed, as autovacuum would within a minute
    of such a load; without it PostgreSQL plans the board's aggregate for an empty table."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _first_page(client: Any, url: str) -> tuple[Any, list[str]]:
    """The page's first answer (asserted 200) and the SQL it ran."""
    from django.db import connection

    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        first = client.get(url)
    assert first.status_code == 200, first.status_code
    return first, executed


def seed_review(*, deals: int) -> tuple[Any, list[Any], int]:
    """110% of ``deals`` deals (10% closed) with a year of timeline; the manager, the reps and
    the number of closed deals."""
    import datetime as dt
    import itertools
    import random
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from leadpact.accounts.models import Role, Team, User
    from leadpact.pipeline.models import Deal, DealEvent
    from leadpact.pipeline.services.pipelines import StageInput, pipeline_create

    rng = random.Random(0)
    team = Team.objects.create(name="Bench sales", kind=Team.Kind.SALES)
    manager = User.objects.create(username="bench-mgr", role=Role.SALES_MANAGER, team=team)
    User.objects.bulk_create(
        [User(username=f"bench-rep{i}", role=Role.SALES_REP, team=team) for i in range(50)]
    )
    reps = list(User.objects.filter(role=Role.SALES_REP))
    pipeline = pipeline_create(
        name="Bench",
        stages=[
            StageInput("Discovery", 10, exit_criteria=["Budget confirmed"]),
            StageInput("Demo", 25),
            StageInput("Proposal", 50),
            StageInput("Negotiation", 75),
            StageInput("Won", 100, kind="won"),
            StageInput("Lost", 0, kind="lost"),
        ],
    )
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == "open"]
    won, lost = stages[-2], stages[-1]
    now = timezone.now()
    today = timezone.localdate()
    categories = ["pipeline", "pipeline", "best_case", "commit", "omitted"]
    closed = deals // 10
    plans = []
    batch: list[Deal] = []
    for i in range(deals + closed):
        created = now - dt.timedelta(days=rng.uniform(0, 365))
        reached = rng.randrange(len(open_stages))
        status = "open" if i < deals else rng.choice(["won", "lost"])
        stage = open_stages[reached] if status == "open" else (won if status == "won" else lost)
        plans.append((created, reached, status))
        batch.append(
            Deal(
                name=f"Deal {i}",
                pipeline=pipeline,
                stage=stage,
                account_name=f"Account {i % 5000}",
                amount=Decimal(1000 + (i * 37) % 50_000),
                currency="EUR",
                close_date=today + dt.timedelta(days=rng.randint(-20, 120)),
                owner=reps[i % len(reps)],
                forecast_category=categories[i % len(categories)] if status == "open" else "closed",
                status=status,
                stage_entered_at=now,
                last_activity_at=None if i % 7 == 0 else now - dt.timedelta(days=i % 40),
            )
        )
        if len(batch) == 5000:
            Deal.objects.bulk_create(batch)
            batch = []
    Deal.objects.bulk_create(batch)
    ids = list(Deal.objects.order_by("id").values_list("id", flat=True))
    events: list[DealEvent] = []

    def flush() -> None:
        DealEvent.objects.bulk_create(events, batch_size=5000)
        events.clear()

    for deal_id, (created, reached, status) in zip(ids, plans, strict=True):
        at = created
        events.append(
            DealEvent(
                deal_id=deal_id,
                kind="created",
                occurred_at=at,
                summary="created",
                data={"stage": open_stages[0].pk},
                stage_id=open_stages[0].pk,
            )
        )
        path = [s.pk for s in open_stages[: reached + 1]]
        if status == "won":
            path.append(won.pk)
        elif status == "lost":
            path.append(lost.pk)
        for before, after in itertools.pairwise(path):
            at += (now - at) * rng.uniform(0.05, 0.5)  # a share of the time left
            events.append(
                DealEvent(
                    deal_id=deal_id,
                    kind="stage",
                    occurred_at=at,
                    summary="moved",
                    data={"from_stage": before, "to_stage": after},
                    stage_id=after,
                    from_stage_id=before,
                )
            )
        if deal_id % 5 == 0:
            events.append(
                DealEvent(
                    deal_id=deal_id,
                    kind="field",
                    occurred_at=min(now, at),
                    summary="date",
                    data={"field": "close_date", "from": "2026-01-01", "to": "2026-02-01"},
                )
            )
        if len(events) >= 20_000:
            flush()
    flush()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As a settled database is (autovacuum): statistics, and the visibility map that
            # lets an index-only scan skip the table.
            cursor.execute("VACUUM ANALYZE")
    return manager, reps, closed


def review(*, deals: int) -> dict[str, Any]:
    from django.core.cache import cache
    from django.test import Client

    from leadpact.pipeline.models import DealEvent

    started = time.perf_counter()
    manager, reps, closed = seed_review(deals=deals)
    seed_s = time.perf_counter() - started
    client = Client()
    client.force_login(manager)
    _, executed = _first_page(client, "/pipeline/review/")
    samples = measure.timed_ms(lambda: client.get("/pipeline/review/"), repeat=10, warmup=1)

    def cold(url: str) -> Any:
        cache.clear()  # the stage entries of the history window are read again
        return client.get(url)

    cold_samples = measure.timed_ms(lambda: cold("/pipeline/review/"), repeat=10, warmup=1)
    rep_samples = measure.timed_ms(
        lambda: cold(f"/pipeline/review/?rep={reps[0].pk}"), repeat=10, warmup=1
    )
    api_samples = measure.timed_ms(lambda: cold("/api/pipeline/review/"), repeat=10, warmup=1)
    return {
        "open_deals": deals,
        "closed_deals": closed,
        "events": DealEvent.objects.count(),
        "seed_s": round(seed_s, 1),
        "queries": len(executed),
        "page_ms": measure.percentiles(samples),
        "page_cold_ms": measure.percentiles(cold_samples),
        "one_rep_page_cold_ms": measure.percentiles(rep_samples),
        "api_cold_ms": measure.percentiles(api_samples),
    }
