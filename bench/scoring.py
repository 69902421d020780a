"""Benchmark section ``scoring``: batch and single-lead scoring speed, fit time, and the peers.

Synthetic leads shaped like X Education (5 numeric, 5 categorical attributes, some missing).
The scorecard is fitted on 100k rows, then 1M rows are scored from raw values to points and
a per-attribute explanation. Text columns arrive as pandas Categorical (as a selector hands
them over: one code per row, one lookup per distinct value); ``batch_1m_text_columns_s``
also times plain ``str`` columns, which pandas must first factorize. Measured in the same run:
optbinning's own WoE transform and LightGBM predict on the same 1M rows, and the speed-ups.

Times are CPU seconds of this process (the target is "on one core" and the machine is
shared); ``batch_1m_wall_s`` gives the wall-clock time of the headline figure too.

``rescoring`` measures going live in the database (SQLite and PostgreSQL, each fresh): a
profile over four attributes goes live over ``RESCORE_LEADS`` seeded leads (about three in
four open) with half a touch per lead. Timed: the live switch itself (one short transaction,
whatever the number of leads), the background rescore run that follows (chunks of 5,000
leads, each its own transaction: every score changes, every change gets its timeline event)
and the periodic rescore right after (engagement decayed by seconds: next to nothing changes or
is written). Wall seconds; the routing of new MQLs (another app's job) is not included.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from bench.harness import in_database, scaled
from leadpact.scoring.engine.peers import LightGBMPeer
from leadpact.scoring.engine.scorecard import Scorecard

NUMERIC = ["visits", "minutes", "pages_per_visit", "days_since_signup", "employees"]
CATEGORICAL = ["source", "origin", "occupation", "city", "specialization"]
RESCORE_LEADS = 200_000


def synthetic_leads(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    logit = np.full(n, -0.8)
    for i, name in enumerate(NUMERIC):
        x = rng.gamma(2.0, 3.0 + i, n)
        logit += 0.5 * (x - x.mean()) / x.std() / (1 + 0.3 * i)
        data[name] = np.where(rng.random(n) < 0.05, np.nan, x.round(1))
    for i, name in enumerate(CATEGORICAL):
        levels = np.array([f"{name}_{k}" for k in range(4 + 3 * i)])
        codes = rng.integers(0, len(levels), n)
        logit += rng.normal(0, 0.5, len(levels))[codes]
        values = levels[codes].astype(object)
        values[rng.random(n) < 0.08] = None
        data[name] = values
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame(data), y


def _best_of(fn: Any, repeat: int = 3, clock: Any = time.process_time) -> float:
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def run() -> dict:
    train_X, train_y = synthetic_leads(100_000, seed=1)
    big_X, _ = synthetic_leads(1_000_000, seed=2)
    big_X_category = big_X.assign(**{c: big_X[c].astype("category") for c in CATEGORICAL})

    start = time.process_time()
    model = Scorecard().fit(train_X, train_y)
    fit_s = time.process_time() - start
    compiled = model.compile()

    batch_text_s = _best_of(lambda: compiled.score(big_X))
    batch_s = _best_of(lambda: compiled.score(big_X_category), repeat=5)
    batch_wall_s = _best_of(lambda: compiled.score(big_X_category), 5, time.perf_counter)

    records = big_X.head(2000).to_dict("records")
    latencies = []
    for record in records:
        start = time.perf_counter()
        compiled.score_one(record)
        latencies.append(time.perf_counter() - start)  # wall: too short for a CPU clock
    latencies_ms = np.array(latencies) * 1000

    from optbinning import BinningProcess

    process = BinningProcess(
        variable_names=list(train_X.columns), categorical_variables=CATEGORICAL
    ).fit(train_X, train_y)
    optbinning_s = _best_of(lambda: process.transform(big_X, metric="woe"), repeat=1)

    lightgbm = LightGBMPeer(n_jobs=1).fit(train_X, train_y)
    prepared = lightgbm.prepare(big_X)  # category coding is not LightGBM's prediction time
    lightgbm_s = _best_of(lambda: lightgbm.model_.predict_proba(prepared), repeat=1)

    return {
        "attributes_scored": len(compiled.names),
        "fit_100k_s": round(fit_s, 3),
        "batch_1m_s": round(batch_s, 4),
        "batch_1m_wall_s": round(batch_wall_s, 4),
        "batch_1m_text_columns_s": round(batch_text_s, 4),
        "single_lead_ms_p50": round(float(np.percentile(latencies_ms, 50)), 4),
        "single_lead_ms_p95": round(float(np.percentile(latencies_ms, 95)), 4),
        "optbinning_transform_1m_s": round(optbinning_s, 3),
        "lightgbm_predict_1m_s": round(lightgbm_s, 3),
        "speedup_vs_optbinning": round(optbinning_s / batch_s, 1),
        "speedup_vs_lightgbm": round(lightgbm_s / batch_s, 1),
        "targets": {
            "batch_1m_s": "< 0.3",
            "single_lead_ms": "< 2",
            "fit_100k_s": "< 30",
            "speedup_vs_optbinning": ">= 5",
            "speedup_vs_lightgbm": ">= 20",
        },
        "rescoring": rescoring(),
    }


def rescoring() -> dict[str, Any]:
    leads = scaled(RESCORE_LEADS, minimum=2000)
    return {
        "leads": leads,
        **{
            engine: in_database(
                "bench.scoring:measure_rescoring",
                engine,
                label="scoring_rescore",
                leads=leads,
                timeout=1800,
            )
            for engine in ("sqlite", "postgresql")
        },
    }


def _bench_spec(values: dict[str, list[str]]) -> dict[str, Any]:
    """A hand-made scorecard over categorical lead fields: points spread over the values."""
    attributes = []
    for k, (name, levels) in enumerate(values.items()):
        points = [int(v) for v in np.linspace(-20 + 5 * k, 40 - 5 * k, len(levels))]
        attributes.append(
            {
                "attribute": name,
                "kind": "categorical",
                "bins": [
                    *({"bin": level, "points": p} for level, p in zip(levels, points, strict=True)),
                    {"bin": "missing", "points": 0},
                ],
                "categories": {level: i for i, level in enumerate(levels)},
                "unknown_points": 0,
            }
        )
    return {
        "scaling": {"points_to_double_odds": 20.0, "base_score": 600.0, "base_odds": 1.0},
        "base_points": 500,
        "attributes": attributes,
    }


def measure_rescoring(leads: int) -> dict[str, Any]:
    """Inside a benchmark worker (Django set up, fresh database)."""
    from datetime import timedelta
    from unittest import mock

    from django.db import connection
    from django.utils import timezone

    from bench.seed import seed_leads
    from leadpact.accounts.models import Role, User
    from leadpact.accounts.services import user_create
    from leadpact.campaigns.models import Touch
    from leadpact.common.bulk import bulk_insert
    from leadpact.leads.models import Lead, TimelineEvent
    from leadpact.scoring.frames import open_leads
    from leadpact.scoring.scores import DEFAULT_RULES_JSON
    from leadpact.scoring.services import rescoring as rescoring_service
    from leadpact.scoring.services.profiles import (
        profile_approve,
        profile_create_draft,
        profile_go_live,
        profile_propose,
    )
    from leadpact.scoring.services.rescoring import rescore_run_execute, rescore_run_periodic

    seeded = seed_leads(leads)
    g = np.random.default_rng(5)
    ids = np.array(Lead.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    kinds = [r["kind"] for r in DEFAULT_RULES_JSON]
    n_touches = len(ids) // 2
    who = g.choice(ids, n_touches)
    kind = g.integers(0, len(kinds), n_touches)
    age = g.uniform(0, 60, n_touches)
    started = time.perf_counter()
    bulk_insert(
        Touch,
        [
            {
                "lead_id": int(who[i]),
                "channel": "web",
                "kind": kinds[kind[i]],
                "occurred_at": now - timedelta(days=float(age[i])),
                "idempotency_key": f"bench-{i}",
            }
            for i in range(n_touches)
        ],
        batch_size=5000,
    )
    touches_s = time.perf_counter() - started

    def levels(name: str, *, attribute: bool = False) -> list[str]:
        rows = Lead.objects.values_list(f"attributes__{name}" if attribute else name, flat=True)
        return sorted({str(v) for v in rows.distinct()[:50] if v})

    values = {
        "source_channel": levels("source_channel"),
        "country": levels("country"),
        "segment": levels("segment", attribute=True),
        "lead_type": levels("lead_type", attribute=True),
    }
    marketer = User.objects.get(username="marketer")
    manager = User.objects.get(username="manager")
    reviewer = user_create(username="marketer2", password="bench-pass", role=Role.MARKETING)
    draft = profile_create_draft(
        actor=marketer,
        scorecard=_bench_spec(values),
        threshold=560,
        engagement_rules=DEFAULT_RULES_JSON,
    )
    profile_propose(profile=draft, actor=marketer)
    profile_approve(profile=draft, actor=reviewer)
    approved = profile_approve(profile=draft, actor=manager)
    open_count = open_leads().count()

    # Background jobs are not started here (the worker runs LEADPACT_JOBS=sync, which would
    # run them inside the timed calls): the run is executed below, chunk by chunk, and the
    # routing of the new MQLs (a job of the routing app) is not part of this measurement.
    with mock.patch.object(rescoring_service, "enqueue"):
        start = time.perf_counter()
        _, run = profile_go_live(profile=approved, actor=manager)
        switch_s = time.perf_counter() - start

        chunk_s: list[float] = []
        start = time.perf_counter()
        while run.status == "running":
            t = time.perf_counter()
            run, _ = rescore_run_execute(run_id=run.pk, max_chunks=1)
            chunk_s.append(time.perf_counter() - t)
        rescore_s = time.perf_counter() - start

        periodic = rescore_run_periodic()
        start = time.perf_counter()
        periodic, result = rescore_run_execute(run_id=periodic.pk)
        unchanged_s = time.perf_counter() - start

    return {
        "vendor": connection.vendor,
        "seed_s": seeded["seconds"],
        "touches": n_touches,
        "touches_insert_s": round(touches_s, 1),
        "open_leads": open_count,
        "switch_ms": round(switch_s * 1000, 1),
        "rescore_s": round(rescore_s, 2),
        "rescore_leads_per_s": round(run.scored / max(rescore_s, 1e-9)),
        "chunks": run.chunks,
        "chunk_s_max": round(max(chunk_s), 2),
        "chunk_s_median": round(float(np.median(chunk_s)), 2),
        "scored": run.scored,
        "changed": run.changed,
        "timeline_events": TimelineEvent.objects.filter(kind="score_change").count(),
        "became_mql": run.became_mql,
        "unchanged_rescore_s": round(unchanged_s, 2),
        "unchanged_leads_per_s": round(periodic.scored / max(unchanged_s, 1e-9)),
        "unchanged_changed": result.changed,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
