import numpy as np
import pandas as pd
import pytest

from leadpact.scoring.engine.drift import drift_report, psi
from leadpact.scoring.engine.threshold import threshold_by_capacity


def test_threshold_maximises_revenue_within_capacity():
    scores = np.array([90, 80, 70, 60, 50, 40])
    converted = np.array([1, 1, 0, 1, 0, 0])
    result = threshold_by_capacity(
        scores, converted, weeks=1, capacity_per_week=4, deal_value=1000, cost_per_lead=100
    )
    by_t = {r["threshold"]: r for r in result["rows"]}
    assert by_t[60]["leads_per_week"] == 4
    assert by_t[60]["conversion_share"] == 1.0
    assert by_t[60]["expected_revenue_per_week"] == 3000 - 400
    assert by_t[50]["within_capacity"] is False
    assert result["recommended"]["threshold"] == 60
    tight = threshold_by_capacity(
        scores, converted, weeks=1, capacity_per_week=0.5, deal_value=1000, cost_per_lead=100
    )
    assert tight["recommended"] is None
    with pytest.raises(ValueError):
        threshold_by_capacity(
            scores, converted[:3], weeks=1, capacity_per_week=1, deal_value=1, cost_per_lead=1
        )


def test_psi_is_small_for_the_same_population_and_flags_a_shift():
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"minutes": rng.normal(10, 2, 5000), "source": rng.choice(["a", "b"], 5000)})
    same = pd.DataFrame(
        {"minutes": rng.normal(10, 2, 5000), "source": rng.choice(["a", "b"], 5000)}
    )
    moved = pd.DataFrame(
        {"minutes": rng.normal(13, 2, 5000), "source": rng.choice(["a", "b"], 5000, p=[0.9, 0.1])}
    )
    assert psi(ref["minutes"], same["minutes"]) < 0.02
    report = drift_report(
        ref, moved, reference_scores=ref["minutes"] * 10, current_scores=moved["minutes"] * 10
    )
    assert report["flagged"] == ["minutes", "source"]
    assert report["score"]["flagged"] is True
    assert not drift_report(ref, same, reference_scores=[1, 2], current_scores=[1, 2])["flagged"]
