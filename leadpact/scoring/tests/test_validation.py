import numpy as np
import pytest

from leadpact.scoring.engine.peers import FrequencyNaiveBayes, LightGBMPeer
from leadpact.scoring.engine.scorecard import Scorecard
from leadpact.scoring.engine.validation import calibration, cross_validate, lift_table
from leadpact.scoring.tests.synthetic import leads


def test_calibration_error_is_zero_when_predictions_match_rates_and_large_otherwise():
    y = np.array([0] * 8 + [1] * 2 + [0] * 2 + [1] * 8)
    p = np.array([0.2] * 10 + [0.8] * 10)
    assert calibration(y, p)[0] == pytest.approx(0.0)
    assert calibration(y, 1 - p)[0] == pytest.approx(0.6)


def test_lift_counts_conversions_in_the_top_share():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    p = np.linspace(1, 0, 10)
    top10 = lift_table(y, p)[0]
    assert top10["conversion_rate"] == 1.0
    assert top10["lift"] == pytest.approx(5.0)
    assert top10["conversions_captured"] == pytest.approx(0.5)


def test_cross_validation_of_the_scorecard_and_its_peers():
    X, y = leads()
    X = X.drop(columns=["status_after_call"])
    results = {
        "scorecard": cross_validate(Scorecard, X, y, n_splits=3),
        "nb": cross_validate(FrequencyNaiveBayes, X, y, n_splits=3),
        "lgbm": cross_validate(lambda: LightGBMPeer(n_estimators=50), X, y, n_splits=3),
    }
    for name, r in results.items():
        assert 0.7 < r["auc_mean"] <= 1.0, name
        assert len(r["auc_folds"]) == 3
        assert len(r["reliability"]) == 10
        assert [row["top_share"] for row in r["lift"]] == [0.1, 0.2, 0.3, 0.5]


def test_naive_bayes_ignores_values_it_never_saw():
    X, y = leads(300)
    model = FrequencyNaiveBayes().fit(X[["source"]], y)
    unseen = model.predict_proba(X[["source"]].assign(source="brand-new"))[:, 1]
    assert np.allclose(unseen, y.mean(), atol=0.02)
