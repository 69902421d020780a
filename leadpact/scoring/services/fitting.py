"""Fitting a new draft version: from the system's own closed leads, or from an uploaded CSV
(the same inputs as ``leadpact scoring fit``). The engine's validation report is stored on
the draft; the engine's complaints about the input become ApplicationError, message intact.

From the system's own history the engagement points are learned too (touches of won against
lost leads, beyond what the attributes say), per touch kind where history allows; the other
kinds keep their points, and the report says which and why."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.scoring.engine.engagement import MIN_LEADS_EACH, learn_engagement_rules
from leadpact.scoring.engine.errors import ScoringInputError
from leadpact.scoring.engine.history import History, prepare_history, read_history_csv
from leadpact.scoring.engine.report import fit_report, json_ready
from leadpact.scoring.engine.spec import compile_spec, scorecard_spec
from leadpact.scoring.frames import LeadRows
from leadpact.scoring.history import (
    DATE,
    OUTCOME,
    TOUCH_WINDOW_DAYS,
    closed_history,
    closed_history_touches,
)
from leadpact.scoring.models import LeadProfile
from leadpact.scoring.roles import can_edit_profile
from leadpact.scoring.scores import DEFAULT_RULES_JSON, rules_from_json, rules_to_json
from leadpact.scoring.selectors import profile_live
from leadpact.scoring.services.profiles import profile_create_draft

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Without a live threshold to keep, start at the score above which the top 30% of history sits.
DEFAULT_TOP_SHARE = 0.3


def _fit(history: History, *, keep: list[str], folds: int, peers: bool, max_attributes: int):
    model, report = fit_report(
        history,
        keep=keep,
        n_splits=folds,
        peers=peers,
        scorecard_options={"max_attributes": max_attributes},
    )
    spec = scorecard_spec(model)
    scores, _ = compile_spec(spec).score(history.X)
    report = json_ready(report)
    # The capture curve the page draws: share of conversions caught above each score.
    order = np.argsort(-scores, kind="stable")
    caught = np.cumsum(history.y[order]) / max(int(history.y.sum()), 1)
    steps = np.linspace(0, len(order) - 1, num=min(50, len(order))).astype(int)
    report["capture_curve"] = [
        {
            "score": int(scores[order][i]),
            "share_of_leads": float((i + 1) / len(order)),
            "share_of_conversions": float(caught[i]),
        }
        for i in steps
    ]
    threshold = int(np.quantile(scores, 1 - DEFAULT_TOP_SHARE))
    return json_ready(spec), report, threshold


def _learn_engagement(
    history: History, rows: LeadRows, spec: dict[str, Any], base: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Engagement points learned from the closed leads' touches, and the evidence."""
    touches = closed_history_touches(rows)
    fit_points, _ = compile_spec(spec).score(history.X)
    rules, evidence = learn_engagement_rules(
        touches.lead_index,
        touches.kinds,
        touches.ages_days,
        history.y,
        fit_points,
        rules_from_json(base),
        pdo=float(spec.get("scaling", {}).get("points_to_double_odds", 20.0)),
    )
    learned = [e["kind"] for e in evidence if e["learned"]]
    summary = (
        f"Touches in the first {TOUCH_WINDOW_DAYS} days after capture of {len(history.y)} "
        f"closed leads ({int(history.y.sum())} won); calls, imports and other sales-side "
        "touches left out. Points are what a touch adds beyond the attributes. "
        + (
            f"Learned for {', '.join(learned)}; the other kinds keep their points."
            if learned
            else f"Too little history to learn any kind ({MIN_LEADS_EACH} won and "
            f"{MIN_LEADS_EACH} lost leads with it are needed): the points are kept."
        )
    )
    return rules_to_json(rules), {
        "summary": summary,
        "window_days": TOUCH_WINDOW_DAYS,
        "min_leads_each": MIN_LEADS_EACH,
        "touches": len(touches.kinds),
        "kinds": evidence,
    }


def _draft(
    actor: User | None,
    spec: dict,
    report: dict,
    threshold: int,
    source: str,
    engagement_rules: list[dict[str, Any]] | None = None,
) -> LeadProfile:
    live = profile_live()
    if engagement_rules is None and live is not None:
        engagement_rules = live.engagement_rules
    return profile_create_draft(
        actor=actor,
        scorecard=spec,
        threshold=live.threshold if live is not None else threshold,
        engagement_rules=engagement_rules,
        report=report,
        source=source,
        based_on=live,
    )


def profile_fit_from_history(
    *,
    actor: User | None,
    folds: int = 5,
    peers: bool = False,
    max_attributes: int = 12,
    exclude: list[str] | None = None,
    learn_engagement: bool = True,
) -> LeadProfile:
    """Propose a new draft learned from the leads the system has seen won and lost: the
    scorecard, and (``learn_engagement``) the engagement points where history allows; without
    it the live (or default) engagement rules are kept and only the evidence is reported."""
    if actor is not None and not can_edit_profile(actor):
        raise PermissionDeniedError("Only marketing or an admin may fit a lead profile.")
    fit_settings_check(folds, max_attributes)
    frame, rows = closed_history()
    if frame.empty:
        raise ApplicationError(
            "No closed leads yet: the history needs won and lost leads to learn from."
        )
    try:
        history = prepare_history(
            frame, outcome=OUTCOME, positive="1", exclude=exclude or [], date_column=DATE
        )
        spec, report, threshold = _fit(
            history, keep=[], folds=folds, peers=peers, max_attributes=max_attributes
        )
    except ScoringInputError as exc:
        raise ApplicationError(str(exc), code="bad_history") from exc
    live = profile_live()
    base = live.engagement_rules if live is not None else DEFAULT_RULES_JSON
    rules, report["engagement"] = _learn_engagement(history, rows, spec, base)
    if not learn_engagement:
        rules = base
        report["engagement"]["applied"] = False
        report["engagement"]["summary"] += " Not applied: the engagement points were kept."
    return _draft(actor, spec, report, threshold, f"closed leads ({len(frame)})", rules)


def fit_settings_check(folds: int, max_attributes: int) -> None:
    """The fit settings a person may choose, refused with a clear message."""
    if not 2 <= folds <= 20:
        raise ApplicationError("Folds must be between 2 and 20.")
    if max_attributes < 1:
        raise ApplicationError("The attribute limit must be at least 1.")


def profile_fit_from_csv(
    *,
    actor: User | None,
    upload: BinaryIO,
    file_name: str,
    outcome: str,
    positive: str | None = None,
    exclude: list[str] | None = None,
    missing: list[str] | None = None,
    keep: list[str] | None = None,
    date_column: str | None = None,
    folds: int = 5,
    max_attributes: int = 12,
    peers: bool = False,
) -> LeadProfile:
    """Propose a new draft learned from an uploaded history CSV (as ``scoring fit`` reads it)."""
    if actor is not None and not can_edit_profile(actor):
        raise PermissionDeniedError("Only marketing or an admin may fit a lead profile.")
    if not (outcome or "").strip():
        raise ApplicationError("Name the outcome column (won/lost).")
    fit_settings_check(folds, max_attributes)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.csv"
        size = 0
        with path.open("wb") as out:
            for block in iter(lambda: upload.read(1 << 20), b""):
                size += len(block)
                if size > MAX_UPLOAD_BYTES:
                    raise ApplicationError("The history file is larger than 50 MB.")
                out.write(block)
        try:
            frame = read_history_csv(path, missing=missing or [])
            history = prepare_history(
                frame,
                outcome=outcome.strip(),
                positive=positive or None,
                exclude=exclude or [],
                keep=keep or [],
                date_column=date_column or None,
            )
            spec, report, threshold = _fit(
                history, keep=keep or [], folds=folds, peers=peers, max_attributes=max_attributes
            )
        except ScoringInputError as exc:
            raise ApplicationError(
                str(exc).replace(str(path), file_name), code="bad_history"
            ) from exc
    return _draft(actor, spec, report, threshold, f"file {file_name}"[:200])


def fit_options(data: Any) -> dict[str, Any]:
    """Comma-separated column lists from a form, split and stripped."""

    def split(name: str) -> list[str]:
        return [p.strip() for p in str(data.get(name, "") or "").split(",") if p.strip()]

    return {"exclude": split("exclude"), "missing": split("missing"), "keep": split("keep")}
