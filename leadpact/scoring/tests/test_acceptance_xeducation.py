"""Acceptance: the scorecard learned from real X Education history, pre-contact fields only.

Measured with this exact procedure: scorecard AUC 0.872 (LightGBM 0.878, Odoo-style naive
Bayes 0.843), ECE 0.014. The thresholds below are the issue's targets, not the measurement.
"""

import pytest

from leadpact.scoring.engine.history import prepare_history, read_history_csv
from leadpact.scoring.engine.report import fit_report
from leadpact.scoring.engine.scorecard import sign_conflicts

AFTER_CONTACT = [
    "Lead Profile",
    "Last Activity",
    "Last Notable Activity",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
]
IDS = ["Prospect ID", "Lead Number"]


@pytest.mark.datasets
def test_xeducation_scorecard_meets_the_targets(datasets_dir):
    frame = read_history_csv(datasets_dir / "xeducation_leads.csv", missing=["Select"])
    # Tags and Lead Quality are deliberately NOT excluded: the leakage guard must catch them.
    history = prepare_history(frame, outcome="Converted", exclude=AFTER_CONTACT + IDS)
    model, report = fit_report(history, n_splits=5, random_state=42, peers=True)

    assert {"Tags", "Lead Quality"} <= set(report["leakage_flags"])
    assert not {"Tags", "Lead Quality"} & set(model.attributes_)
    assert report["validation"]["auc_mean"] >= 0.870
    assert report["validation"]["ece"] <= 0.02
    assert len(report["scorecard"]["attributes"]) <= 12
    assert sign_conflicts(report["scorecard"]) == []
    # the case from the issue: missing "What matters most" converts at ~14% and must not
    # earn more points than any answer
    for attribute in report["scorecard"]["attributes"]:
        if attribute["attribute"].startswith("What matters most"):
            missing = next(b for b in attribute["bins"] if b["bin"] == "missing")
            answers = [b for b in attribute["bins"] if b["bin"] != "missing" and b["count"] > 100]
            assert all(missing["points"] <= b["points"] for b in answers)
    # transparency should cost little against LightGBM and beat frequency naive Bayes
    assert report["peers"]["lightgbm"]["auc_mean"] - report["validation"]["auc_mean"] < 0.02
    assert report["validation"]["auc_mean"] > report["peers"]["naive_bayes"]["auc_mean"]
