import numpy as np
import pytest

from leadpact.scoring.engine.engagement import (
    EngagementRule,
    EngagementRules,
    EngagementWeights,
    decayed_counts,
    engagement_points,
    engagement_points_batch,
)

RULES = EngagementRules(
    [
        EngagementRule("form_fill", 10, half_life_days=30, cap=15, period_days=30),
        EngagementRule("page_view", 1, half_life_days=7),
    ]
)


def test_points_halve_every_half_life():
    assert engagement_points(["form_fill"], [0], RULES) == pytest.approx(10)
    assert engagement_points(["form_fill"], [30], RULES) == pytest.approx(5)
    assert engagement_points(["page_view"], [14], RULES) == pytest.approx(0.25)


def test_cap_applies_per_kind_and_period():
    # three fresh form fills: 30 points capped at 15; one more 31 days old is another period
    assert engagement_points(["form_fill"] * 3, [0, 0, 0], RULES) == pytest.approx(15)
    four = engagement_points(["form_fill"] * 4, [0, 0, 0, 31], RULES)
    assert four == pytest.approx(15 + 10 * 2 ** (-31 / 30))


def test_unknown_kinds_nan_ages_and_future_touches():
    assert engagement_points(["fax", "form_fill"], [0, np.nan], RULES) == 0
    assert engagement_points(["form_fill"], [-3], RULES) == pytest.approx(10)
    with pytest.raises(ValueError):
        engagement_points(["form_fill"], [1, 2], RULES)
    with pytest.raises(ValueError):
        EngagementRule("x", 1, half_life_days=0)


def test_batch_matches_one_lead_at_a_time():
    rng = np.random.default_rng(3)
    lead = rng.integers(0, 20, 300)
    kinds = rng.choice(["form_fill", "page_view", "other"], 300)
    ages = rng.uniform(0, 120, 300)
    batch = engagement_points_batch(lead, kinds, ages, 20, RULES)
    for i in range(20):
        mine = lead == i
        assert batch[i] == pytest.approx(engagement_points(kinds[mine], ages[mine], RULES))


def test_learned_weights_rank_the_kind_that_converts():
    rng = np.random.default_rng(4)
    n = 1500
    lead = np.repeat(np.arange(n), 3)
    kinds = rng.choice(["form_fill", "page_view"], 3 * n)
    counts = decayed_counts(lead, kinds, np.zeros(3 * n), n, RULES)
    y = (rng.random(n) < 1 / (1 + np.exp(-(counts[:, 0] * 1.2 - 1.5)))).astype(int)
    learned = EngagementWeights().fit(counts, y)
    assert learned.points_[0] > learned.points_[1] >= 0
    assert [r.kind for r in learned.rules(RULES)] == ["form_fill", "page_view"]
