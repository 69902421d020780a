"""Fit a scorecard from history and measure it beside its peers: the ``scoring fit`` report.

One function builds the whole report as plain data (what ``--json`` prints and what a page
could store); another renders it as text for people.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from leadpact.scoring.engine.errors import ScoringInputError
from leadpact.scoring.engine.history import History
from leadpact.scoring.engine.peers import FrequencyNaiveBayes, LightGBMPeer
from leadpact.scoring.engine.scorecard import Scorecard
from leadpact.scoring.engine.validation import cross_validate, out_of_time


def fit_report(
    history: History,
    *,
    keep: Iterable[str] = (),
    n_splits: int = 5,
    random_state: int = 42,
    peers: bool = True,
    scorecard_options: dict[str, Any] | None = None,
) -> tuple[Scorecard, dict[str, Any]]:
    """Fit on all of ``history``; cross-validate the scorecard and (if asked) its peers."""
    keep = list(keep)
    options = {"keep": keep, "random_state": random_state, **(scorecard_options or {})}
    model = Scorecard(**options).fit(history.X, history.y)
    if not model.attributes_:
        raise ScoringInputError(
            "no attribute carries enough information about the outcome to score with "
            "(empty attribute set after screening); see the screening table"
        )
    # Leakage-flagged columns are left out of every model measured, peers included.
    usable = [c for c in history.X.columns if c not in model.leakage_flags_ or c in keep]
    X = history.X[usable]

    def make_scorecard() -> Scorecard:
        return Scorecard(**options)

    report: dict[str, Any] = {
        "rows": len(history.y),
        "positives": int(history.y.sum()),
        "base_rate": float(history.y.mean()),
        "positive_value": history.positive,
        "dropped_columns": history.dropped,
        "leakage_flags": list(model.leakage_flags_),
        "screening": model.screening_,
        "scorecard": model.table(),
        "validation": cross_validate(
            make_scorecard, X, history.y, n_splits=n_splits, random_state=random_state
        ),
    }
    report["validation"]["method"] = f"stratified {n_splits}-fold, seed {random_state}"
    if peers:
        report["peers"] = {
            "lightgbm": cross_validate(
                lambda: LightGBMPeer(random_state=random_state),
                X,
                history.y,
                n_splits=n_splits,
                random_state=random_state,
            ),
            "naive_bayes": cross_validate(
                FrequencyNaiveBayes, X, history.y, n_splits=n_splits, random_state=random_state
            ),
        }
    if history.dates is not None:
        report["out_of_time"] = {
            "scorecard": out_of_time(make_scorecard, X, history.y, history.dates)
        }
        if peers:
            report["out_of_time"]["lightgbm"] = out_of_time(
                lambda: LightGBMPeer(random_state=random_state), X, history.y, history.dates
            )
    return model, report


def _pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{100 * x:5.1f}%"


def render_text(report: dict[str, Any]) -> str:
    """The report for a terminal: scorecard, then validation side by side with the peers."""
    lines: list[str] = []
    card = report["scorecard"]
    scaling = card["scaling"]
    lines.append(
        f"History: {report['rows']} leads, {report['positives']} converted "
        f"({_pct(report['base_rate']).strip()})"
    )
    for name, why in report["dropped_columns"].items():
        lines.append(f"  dropped column {name!r}: {why}")
    for name in report["leakage_flags"]:
        row = next(r for r in report["screening"] if r["attribute"] == name)
        lines.append(
            f"  WARNING leakage suspected in {name!r} (IV {row['iv']:.2f}, AUC {row['auc']:.3f}): "
            f"{row['status']}; use --keep to insist"
        )
    lines.append("")
    lines.append(
        f"SCORECARD  base {card['base_points']} points; +{scaling['points_to_double_odds']:g} "
        f"points double the odds; {scaling['base_score']:g} points = odds "
        f"{scaling['base_odds']:g}:1; unknown values score 0"
    )
    for attribute in card["attributes"]:
        lines.append(f"  {attribute['attribute']}  (IV {attribute['iv']:.2f})")
        for row in attribute["bins"]:
            lines.append(
                f"    {row['points']:+5d}  {_pct(row['conversion_rate'])}  n={row['count']:<6d} "
                f"{row['bin'][:70]}"
            )
    lines.append("")
    models = {"scorecard": report["validation"]}
    models.update(report.get("peers", {}))
    names = list(models)
    lines.append(f"VALIDATION ({report['validation']['method']})")
    lines.append("  " + f"{'':24}" + "".join(f"{n:>14}" for n in names))

    def row(label: str, fmt: Any) -> None:
        lines.append("  " + f"{label:24}" + "".join(f"{fmt(models[n]):>14}" for n in names))

    row("ROC AUC (mean ± std)", lambda m: f"{m['auc_mean']:.3f}±{m['auc_std']:.3f}")
    row("log loss", lambda m: f"{m['log_loss']:.4f}")
    row("Brier score", lambda m: f"{m['brier']:.4f}")
    row("calibration error (ECE)", lambda m: f"{m['ece']:.4f}")
    for i, share in enumerate(r["top_share"] for r in report["validation"]["lift"]):
        row(
            f"top {share:.0%}: lift / caught",
            lambda m, i=i: (
                f"{m['lift'][i]['lift']:.2f} / {_pct(m['lift'][i]['conversions_captured']).strip()}"
            ),
        )
    lines.append("")
    lines.append("RELIABILITY (scorecard, out-of-fold)  predicted vs observed")
    for r in report["validation"]["reliability"]:
        if r["count"]:
            lines.append(
                f"  {r['bin']}  n={r['count']:<6d} predicted {_pct(r['predicted'])} "
                f"observed {_pct(r['observed'])}"
            )
    if "out_of_time" in report:
        lines.append("")
        lines.append("OUT OF TIME (train on oldest 80%, test on newest 20%)")
        for name, result in report["out_of_time"].items():
            if "auc" in result:
                lines.append(
                    f"  {name:12} AUC {result['auc']:.3f}  ECE {result['ece']:.4f}  "
                    f"(test from {result['test_from']})"
                )
            else:
                lines.append(f"  {name:12} {result['error']}")
    return "\n".join(lines)


def json_ready(value: Any) -> Any:
    """Plain JSON types (numpy scalars and NaN made safe for ``json.dumps``)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
