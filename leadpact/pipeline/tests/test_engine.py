from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadpact.pipeline.engine.simulator import MonteCarloForecast
from leadpact.pipeline.engine.stage_probability import StageProbabilityLearner
from leadpact.pipeline.engine.weighted import weighted_pipeline
from leadpact.pipeline.engine.win_model import WinProbabilityModel


def test_weighted_pipeline():
    assert weighted_pipeline([100, 200], [0.5, 0.25]) == pytest.approx(100)
    with pytest.raises(ValueError):
        weighted_pipeline([1], [1.5])


def test_simulator_matches_the_exact_mean_and_variance():
    rng = np.random.default_rng(1)
    amounts = rng.uniform(100, 1000, 500)
    p = rng.uniform(0, 1, 500)
    sim = MonteCarloForecast(n_trials=20_000, chunk_size=1000, random_state=3).fit(amounts, p, 0.1)
    q = p * 0.9
    mean, sd = amounts @ q, np.sqrt((amounts**2) @ (q * (1 - q)))
    assert sim.revenue_.mean() == pytest.approx(mean, rel=0.005)
    assert sim.revenue_.std() == pytest.approx(sd, rel=0.03)
    p10, p50, p90 = sim.percentiles()
    assert p10 < p50 < p90
    assert p10 == pytest.approx(mean - 1.2816 * sd, rel=0.01)
    assert sim.attainment_probability(mean) == pytest.approx(0.5, abs=0.02)
    assert sim.attainment_probability(0) == 1.0


def test_simulator_is_reproducible_and_threads_agree_in_distribution():
    a, p = np.full(1000, 10.0), np.full(1000, 0.3)
    one = MonteCarloForecast(n_trials=4000, random_state=7).fit(a, p)
    again = MonteCarloForecast(n_trials=4000, random_state=7).fit(a, p)
    two = MonteCarloForecast(n_trials=4000, n_jobs=2, random_state=7).fit(a, p)
    assert np.array_equal(one.revenue_, again.revenue_)
    assert two.revenue_.mean() == pytest.approx(3000, rel=0.01)


def test_simulator_edges():
    sim = MonteCarloForecast(n_trials=100, random_state=0).fit([5.0, 7.0], [1.0, 0.0])
    assert set(sim.revenue_) == {5.0}
    empty = MonteCarloForecast(n_trials=10).fit([], [])
    assert empty.percentiles().tolist() == [0, 0, 0]
    with pytest.raises(ValueError):
        MonteCarloForecast().fit([1.0], [2.0])


def test_stage_learner_counts_reached_and_won():
    reached = [[1, 1, 0], [1, 1, 1], [1, 0, 0], [1, 1, 1]]
    won = [False, True, False, True]
    learner = StageProbabilityLearner().fit(reached, won)
    assert learner.reached_.tolist() == [4, 3, 2]
    assert learner.probabilities_.tolist() == [0.5, pytest.approx(2 / 3), 1.0]


def test_win_model_learns_and_reports_calibration():
    rng = np.random.default_rng(0)
    n = 2000
    stage = rng.choice(["early", "late"], n)
    score = rng.uniform(0, 100, n)
    true_p = 1 / (1 + np.exp(-(-2 + 2.5 * (stage == "late") + 0.02 * score)))
    won = rng.uniform(size=n) < true_p
    frame = pd.DataFrame(
        {
            "stage": stage,
            "age_in_stage_days": rng.integers(0, 60, n),
            "amount": rng.lognormal(8, 1, n),
            "source_channel": rng.choice(["web", "event"], n),
            "lead_score": score,
        }
    )
    model = WinProbabilityModel(random_state=0).fit(frame, won)
    assert model.auc_ > 0.75
    assert model.brier_ < 0.2
    assert sum(b["count"] for b in model.calibration_) == n
    worst = max(abs(b["predicted"] - b["observed"]) for b in model.calibration_ if b["count"] > 50)
    assert worst < 0.08
    proba = model.predict_proba(frame.iloc[:5])
    assert proba.shape == (5,) and ((proba > 0) & (proba < 1)).all()


def test_win_model_cross_validates_by_deal():
    """Outcomes here are pure chance, but each deal appears 6 times with a feature unique to
    it: folds that split a deal's rows let the model recognise the deal and "predict" its
    outcome; folds grouped by deal report the truth (no skill)."""
    rng = np.random.default_rng(1)
    deals = 300
    won_by_deal = rng.uniform(size=deals) < 0.4
    deal = np.repeat(np.arange(deals), 6)
    frame = pd.DataFrame(
        {
            "stage": rng.choice(["early", "late"], deal.size),
            "age_in_stage_days": rng.integers(0, 60, deal.size),
            "amount": rng.lognormal(8, 1, deal.size),
            "source_channel": [f"campaign-{d}" for d in deal],
            "lead_score": rng.uniform(0, 100, deal.size),
        }
    )
    won = won_by_deal[deal]
    leaky = WinProbabilityModel(random_state=0).fit(frame, won)
    honest = WinProbabilityModel(random_state=0).fit(frame, won, groups=deal)
    assert leaky.auc_ > 0.85
    assert honest.auc_ < 0.6 and honest.folds_ == 5
