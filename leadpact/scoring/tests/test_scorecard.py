import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from leadpact.scoring.engine.logistic import NonNegativeLogisticRegression
from leadpact.scoring.engine.scorecard import Scorecard, sign_conflicts
from leadpact.scoring.tests.synthetic import leads


@pytest.fixture(scope="module")
def fitted():
    X, y = leads()
    return X, y, Scorecard(max_attributes=3).fit(X, y)


def test_fit_returns_self_with_learned_state(fitted):
    X, y, model = fitted
    assert isinstance(model, Scorecard)
    assert 1 <= len(model.attributes_) <= 3
    assert "minutes" in model.attributes_ and "source" in model.attributes_
    assert all(p.dtype == np.int32 for p in model.points_.values())
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.75


def test_leaking_attribute_is_flagged_and_excluded_unless_kept(fitted):
    X, y, model = fitted
    assert model.leakage_flags_ == ["status_after_call"]
    assert "status_after_call" not in model.attributes_
    kept = Scorecard(keep=["status_after_call"]).fit(X, y)
    assert "status_after_call" in kept.attributes_


def test_points_never_contradict_conversion_rates(fitted):
    _X, _y, model = fitted
    table = model.table()
    assert sign_conflicts(table) == []
    # and the check can fail: swap two bins' points
    bins = table["attributes"][0]["bins"]
    bins[0]["points"], bins[1]["points"] = 100, -100
    bins[0]["conversion_rate"], bins[1]["conversion_rate"] = 0.1, 0.9
    assert sign_conflicts(table)


def test_non_negative_regression_drops_the_redundant_twin():
    rng = np.random.default_rng(1)
    a = rng.normal(size=2000)
    twin = a + 0.3 * rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(2 * a - 0.8 * twin)))).astype(int)
    X = np.column_stack([a, twin])
    free = LogisticRegression().fit(X, y)
    assert free.coef_[0][1] < 0  # unconstrained: the twin would point the wrong way
    bounded = NonNegativeLogisticRegression(C=1.0).fit(X, y)
    assert bounded.coef_[1] == pytest.approx(0.0, abs=1e-9)
    assert bounded.coef_[0] > 0


def test_missing_nan_inf_and_unknown_categories_score_without_error(fitted):
    _X, _y, model = fitted
    compiled = model.compile()
    raw = pd.DataFrame(
        {
            "minutes": [np.nan, np.inf, -np.inf, 5.0],
            "source": [None, "never-seen", "referral", "search"],
            "occupation": ["working", "student", "???", None],
        }
    )
    scores, matrix = compiled.score(raw)
    names = compiled.names
    minutes = compiled.attributes[names.index("minutes")]
    missing_points = minutes.points[minutes.missing_code]
    assert list(matrix[:3, names.index("minutes")]) == [missing_points] * 3
    assert matrix[1, names.index("source")] == 0  # unknown category: neutral
    assert (scores == matrix.sum(axis=1) + compiled.base_points).all()


def test_single_lead_matches_batch_and_explains_itself(fitted):
    X, _y, model = fitted
    compiled = model.compile()
    scores, matrix = compiled.score(X.head(50))
    for i, record in enumerate(X.head(50).to_dict("records")):
        one = compiled.score_one(record)
        assert one.score == scores[i]
        assert list(one.points.values()) == list(matrix[i])
        assert sum(one.points.values()) + compiled.base_points == one.score
    text_number = compiled.score_one({"minutes": "12.5", "source": "ads"})
    assert text_number.score == compiled.score_one({"minutes": 12.5, "source": "ads"}).score
    assert (
        compiled.score_one({"minutes": "n/a"}).points["minutes"]
        == compiled.score_one({}).points["minutes"]
    )


def test_categorical_dtype_fast_path_matches_object_path(fitted):
    X, _y, model = fitted
    compiled = model.compile()
    as_category = X.assign(source=X["source"].astype("category"))
    assert (compiled.score(as_category)[0] == compiled.score(X)[0]).all()


def test_scaling_twenty_points_double_the_odds(fitted):
    _X, _y, model = fitted
    compiled = model.compile()
    p1, p2 = compiled.probability(np.array([600.0, 620.0]))
    assert p1 == pytest.approx(0.5)
    assert (p2 / (1 - p2)) / (p1 / (1 - p1)) == pytest.approx(2.0)
