"""Section ``pipeline``: the Monte Carlo forecast and the pipeline board at scale.

* ``monte_carlo``: 100,000 open deals x 10,000 trials (10⁹ Bernoulli draws) with the
  production simulator (``MonteCarloForecast``), one thread and two; seconds and memory
  (tracemalloc peak of numpy's buffers, and the process RSS growth). Target < 2 s, < 2 GB.
* ``board``: the board page (``/pipeline/``) rendered for a manager with 100,000 open deals in
  the database: median and P95 of 10 requests and the query count. It shows the 50
  soonest-closing deals per stage plus each stage's count and total, so the cost is the two
  aggregate queries, not the number of deals. Measured on SQLite and PostgreSQL.
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
        "board_sqlite": harness.in_database(
            "bench.pipeline:board", "sqlite", label="pipeline", deals=deals
        ),
        "board_postgresql": harness.in_database(
            "bench.pipeline:board", "postgresql", label="pipeline", deals=deals
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


def board(*, deals: int) -> dict[str, Any]:
    import datetime as dt
    from decimal import Decimal

    from django.db import connection
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
    client = Client()
    client.force_login(manager)
    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        first = client.get("/pipeline/")
    assert first.status_code == 200, first.status_code
    samples = measure.timed_ms(lambda: client.get("/pipeline/"), repeat=10, warmup=1)
    return {
        "open_deals": deals,
        "seed_s": round(seed_s, 1),
        "queries": len(executed),
        "page_ms": measure.percentiles(samples),
        "cards": first.content.decode().count("data-deal="),
    }
