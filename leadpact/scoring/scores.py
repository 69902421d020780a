"""A profile version made ready to score: compiled scorecard + engagement rules + threshold.

Score = fit points (the scorecard) + engagement points (touches, decayed), rounded. Compiling
is cached per version and edit, so scoring one lead at capture costs no recompilation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from leadpact.common.errors import ApplicationError
from leadpact.scoring.engine.compiled import CompiledScorecard
from leadpact.scoring.engine.engagement import (
    DEFAULT_RULES,
    EngagementRule,
    EngagementRules,
    engagement_points_batch,
)
from leadpact.scoring.engine.errors import ScoringInputError
from leadpact.scoring.engine.spec import compile_spec
from leadpact.scoring.frames import LeadRows, TouchArrays
from leadpact.scoring.models import LeadProfile

_CACHE: dict[tuple[int, Any], ProfileScorer] = {}


def rules_from_json(items: list[dict[str, Any]]) -> EngagementRules:
    """The stored rules table; bad values raise ApplicationError naming the touch kind."""
    try:
        return EngagementRules(
            EngagementRule(
                kind=str(item["kind"]),
                points=float(item["points"]),
                half_life_days=float(item.get("half_life_days", 30)),
                cap=None if item.get("cap") in (None, "") else float(item["cap"]),
                period_days=float(item.get("period_days", 30)),
            )
            for item in items
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ApplicationError(f"Engagement rules are not valid: {exc}") from exc


def rules_to_json(rules: EngagementRules | tuple[EngagementRule, ...]) -> list[dict[str, Any]]:
    items = rules.rules if isinstance(rules, EngagementRules) else list(rules)
    return [
        {
            "kind": r.kind,
            "points": r.points,
            "half_life_days": r.half_life_days,
            "cap": r.cap,
            "period_days": r.period_days,
        }
        for r in items
    ]


DEFAULT_RULES_JSON = rules_to_json(DEFAULT_RULES)


@dataclass
class Scored:
    scores: np.ndarray  # int64 total per lead
    fit_points: np.ndarray  # leads x attributes
    engagement: np.ndarray  # float per lead


class ProfileScorer:
    def __init__(self, compiled: CompiledScorecard, rules: EngagementRules, threshold: int):
        self.compiled = compiled
        self.rules = rules
        self.threshold = threshold

    @classmethod
    def for_profile(cls, profile: LeadProfile) -> ProfileScorer:
        key = (profile.pk, profile.updated_at)
        scorer = _CACHE.get(key) if profile.pk else None
        if scorer is None:
            scorer = cls.from_parts(profile.scorecard, profile.engagement_rules, profile.threshold)
            if profile.pk:
                if len(_CACHE) > 32:
                    _CACHE.clear()
                _CACHE[key] = scorer
        return scorer

    @classmethod
    def from_parts(
        cls, scorecard: dict[str, Any], rules: list[dict[str, Any]], threshold: int
    ) -> ProfileScorer:
        try:
            compiled = compile_spec(scorecard)
        except ScoringInputError as exc:
            raise ApplicationError(str(exc)) from exc
        return cls(compiled, rules_from_json(rules), int(threshold))

    def score(self, rows: LeadRows, touches: TouchArrays | None) -> Scored:
        frame = rows.frame(self.compiled.names)
        if len(rows) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Scored(empty, np.zeros((0, len(self.compiled.names))), np.zeros(0))
        fit, matrix = self.compiled.score(frame)
        if touches is not None and len(touches.kinds):
            engagement = engagement_points_batch(
                touches.lead_index, touches.kinds, touches.ages_days, len(rows), self.rules
            )
        else:
            engagement = np.zeros(len(rows))
        return Scored(np.rint(fit + engagement).astype(np.int64), matrix, engagement)

    def explanation(self, scored: Scored, i: int, *, version: int) -> dict[str, Any]:
        """What one lead's score is made of, for its timeline event and lead page."""
        return {
            "profile": version,
            "base": self.compiled.base_points,
            "points": {
                name: int(scored.fit_points[i, j]) for j, name in enumerate(self.compiled.names)
            },
            "engagement": round(float(scored.engagement[i]), 1),
            "threshold": self.threshold,
        }


def score_at(profile: LeadProfile, rows: LeadRows, touches: TouchArrays | None) -> Scored:
    return ProfileScorer.for_profile(profile).score(rows, touches)
