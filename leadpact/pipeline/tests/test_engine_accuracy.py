"""The engine's slip learner, calibration error and accuracy tables: pure numpy/pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadpact.pipeline.engine.accuracy import accuracy_by_method, accuracy_by_period
from leadpact.pipeline.engine.slip import SlipLearner
from leadpact.pipeline.engine.win_model import WinProbabilityModel, expected_calibration_error


def test_slip_learner_counts_late_wins_and_smooths():
    expected = np.array(["2026-01-10", "2026-01-10", "2026-02-01", "2026-03-01"], "datetime64[D]")
    closed = np.array(["2026-01-12", "2026-01-05", "2026-02-01", "2026-03-31"], "datetime64[D]")
    raw = SlipLearner(prior_strength=0).fit(expected, closed)
    assert (raw.n_, raw.slipped_) == (4, 2)
    assert raw.slip_probability_ == pytest.approx(0.5)
    assert raw.mean_days_late_ == pytest.approx((2 + 30) / 2)
    smooth = SlipLearner(prior=0.2, prior_strength=4).fit(expected, closed)
    assert smooth.slip_probability_ == pytest.approx((2 + 0.8) / 8)
    empty = SlipLearner(prior=0.3).fit(np.array([], "datetime64[D]"), np.array([], "datetime64[D]"))
    assert empty.slip_probability_ == pytest.approx(0.3) and np.isnan(empty.mean_days_late_)
    with pytest.raises(ValueError):
        SlipLearner().fit(expected, closed[:2])
    with pytest.raises(ValueError):
        SlipLearner(prior=1.5).fit(expected, closed)


def test_expected_calibration_error():
    y = np.array([1, 0, 1, 0])
    assert expected_calibration_error(y, np.full(4, 0.5)) == pytest.approx(0.0)
    # Everything predicted 0.9, half won: a 0.4 gap on every row.
    assert expected_calibration_error(y, np.full(4, 0.9)) == pytest.approx(0.4)
    # Two bins, each perfectly calibrated.
    assert expected_calibration_error(
        np.array([1, 1, 0, 0]), np.array([1.0, 1.0, 0.0, 0.0])
    ) == pytest.approx(0.0)


def test_win_model_reports_ece_and_folds():
    rng = np.random.default_rng(2)
    n = 1500
    score = rng.uniform(0, 100, n)
    won = rng.uniform(size=n) < 1 / (1 + np.exp(-(-2 + 0.04 * score)))
    frame = pd.DataFrame(
        {
            "stage": rng.choice(["a", "b"], n),
            "age_in_stage_days": rng.integers(0, 60, n),
            "amount": rng.lognormal(8, 1, n),
            "source_channel": "web",
            "lead_score": score,
        }
    )
    model = WinProbabilityModel(random_state=0).fit(frame, won)
    assert model.folds_ == 5 and model.n_rows_ == n
    assert 0 <= model.ece_ < 0.05  # a well-specified model is well calibrated out of sample
    # A model told the opposite of the truth is badly calibrated: the measure can fail.
    flipped = WinProbabilityModel(random_state=0).fit(frame, won)
    oof_wrong = 1 - np.clip(flipped.predict_proba(frame), 0, 1)
    assert expected_calibration_error(won, oof_wrong) > 0.2


def _snapshots() -> pd.DataFrame:
    rows = []
    for period, actual in (("2026-01", 100.0), ("2026-02", 200.0)):
        for week, (w, c) in enumerate(((80.0, 150.0), (90.0, 120.0))):
            rows.append(
                {"period": period, "method": "weighted", "week": week, "value": w, "actual": actual}
            )
            rows.append(
                {"period": period, "method": "commit", "week": week, "value": c, "actual": actual}
            )
    return pd.DataFrame(rows)


def test_accuracy_by_period_and_method():
    by_period = accuracy_by_period(_snapshots())
    jan = by_period[(by_period["period"] == "2026-01") & (by_period["method"] == "weighted")].iloc[
        0
    ]
    assert jan["weeks"] == 2 and jan["first"] == 80 and jan["first_error"] == -20
    assert jan["first_ape"] == pytest.approx(0.2)
    assert jan["mape"] == pytest.approx((0.2 + 0.1) / 2)
    by_method = accuracy_by_method(_snapshots()).set_index("method")
    # weighted: |80-100|+|90-100|+|80-200|+|90-200| = 260 over 600 actual.
    assert by_method.loc["weighted", "wape"] == pytest.approx(260 / 600)
    # Mean signed error over mean actual: commit (50 + 20 - 50 - 80) / 4 = -15 on 150.
    assert by_method.loc["commit", "bias"] == pytest.approx(-0.1)
    assert by_method.loc["weighted", "bias"] == pytest.approx(-65 / 150)
    assert by_method.loc["weighted", "periods"] == 2
    nothing_won = _snapshots().assign(actual=0.0)
    assert accuracy_by_period(nothing_won)["mape"].isna().all()
    assert accuracy_by_method(nothing_won)["wape"].isna().all()
    assert accuracy_by_period(_snapshots().iloc[0:0]).empty
    with pytest.raises(ValueError):
        accuracy_by_period(pd.DataFrame({"period": []}))


def test_stage_snapshots_see_a_stay_at_the_ages_it_reached():
    from leadpact.pipeline.services.forecast.learning import stage_snapshots

    spells = pd.DataFrame(
        {"stage": ["A", "B"], "age_in_stage_days": [45.0, 3.0], "won": [False, True]}
    )
    out = stage_snapshots(spells)
    assert sorted(out.loc[out["stage"] == "A", "age_in_stage_days"]) == [0, 7, 14, 30]
    assert out.loc[out["stage"] == "B", "age_in_stage_days"].tolist() == [0]
    assert not out.loc[out["stage"] == "A", "won"].any()
