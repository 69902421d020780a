"""The pure rule evaluation and allocation (no database)."""

import numpy as np
import pandas as pd
import pytest

from leadpact.routing.engine.allocate import Allocator, RepSlot
from leadpact.routing.engine.rules import Rule, RuleError, first_matching_rule, parse_conditions


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["Brazil", "brazil ", "Portugal", None],
            "source_channel": ["paid_search", "organic", "paid_search", "email"],
            "score": [80, 40, 95, None],
            "company.industry": ["Retail", "Software", "software", ""],
            "attributes.segment": ["enterprise", "smb", None, "smb"],
        }
    )


def rule(rule_id: int, *conditions: dict, team: int | None = 1) -> Rule:
    return Rule(rule_id, f"r{rule_id}", parse_conditions(list(conditions)), team_id=team)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "country", "op": "eq", "value": "BRAZIL"}, [1, 1, 0, 0]),
        ({"field": "country", "op": "in", "value": ["Portugal", "Spain"]}, [0, 0, 1, 0]),
        ({"field": "source_channel", "op": "not", "value": "paid_search"}, [0, 1, 0, 1]),
        ({"field": "score", "op": "gte", "value": 80}, [1, 0, 1, 0]),
        ({"field": "score", "op": "lte", "value": "40"}, [0, 1, 0, 0]),
        ({"field": "company.industry", "op": "contains", "value": "soft"}, [0, 1, 1, 0]),
        ({"field": "attributes.segment", "op": "eq", "value": "smb"}, [0, 1, 0, 1]),
        ({"field": "attributes.missing", "op": "eq", "value": "x"}, [0, 0, 0, 0]),
    ],
)
def test_operators(condition, expected):
    matches = first_matching_rule(frame(), [rule(1, condition)])
    assert (matches == 0).astype(int).tolist() == expected


def test_first_matching_rule_wins_and_unmatched_is_minus_one():
    rules = [
        rule(1, {"field": "score", "op": "gte", "value": 90}),
        rule(2, {"field": "country", "op": "eq", "value": "brazil"}),
    ]
    assert first_matching_rule(frame(), rules).tolist() == [1, 1, 0, -1]
    catch_all = [*rules, rule(3)]
    assert first_matching_rule(frame(), catch_all).tolist() == [1, 1, 0, 2]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("country=BR", "must be a list"),
        ([{"field": "country", "op": "eq"}], "exactly field, op and value"),
        ([{"field": "planet", "op": "eq", "value": "x"}], "unknown field"),
        ([{"field": "country", "op": "like", "value": "x"}], "unknown operator"),
        ([{"field": "country", "op": "in", "value": "BR"}], "non-empty list"),
        ([{"field": "score", "op": "gte", "value": "high"}], "needs a number"),
        ([{"field": "country", "op": "eq", "value": " "}], "needs one value"),
    ],
)
def test_bad_conditions_are_refused_clearly(raw, message):
    with pytest.raises(RuleError, match=message):
        parse_conditions(raw)


def test_weighted_round_robin_is_deterministic_and_explained():
    allocator = Allocator.of(
        [
            RepSlot(1, "Ana", 7, weight=2),
            RepSlot(2, "Bruno", 7, weight=1),
            RepSlot(3, "Carla", 7, weight=1, away="out of office until 2026-01-05"),
        ]
    )
    picks = [allocator.to_team(7, "Brazil").rep_id for _ in range(6)]
    # Ana has weight 2: she gets two leads for each of Bruno's; ties go to the lower id.
    # Loads: Ana 0.5 → 1.0 (tie with Bruno 1.0, lower id) → 1.5; Bruno 1.0 → 2.0; …
    assert picks == [1, 1, 2, 1, 1, 2]
    explanation = allocator.to_team(7, "Brazil").explanation
    assert "lowest load in team Brazil" in explanation
    assert "Carla: out of office" in explanation


def test_caps_are_respected_then_fallback_with_reason():
    allocator = Allocator.of(
        [RepSlot(1, "Ana", 7, cap=2, open_leads=1), RepSlot(2, "Bo", 7, cap=1)]
    )
    picks = [allocator.to_team(7, "Brazil") for _ in range(3)]
    assert [p.rep_id for p in picks] == [1, 2, None]
    assert "no available rep" in picks[2].explanation
    assert "Ana: at cap 2/2" in picks[2].explanation


def test_excluded_reps_are_skipped_but_keep_their_turn():
    allocator = Allocator.of([RepSlot(1, "Ana", 7), RepSlot(2, "Bo", 7)])
    assert allocator.to_team(7, "T", exclude=frozenset({1})).rep_id == 2
    assert allocator.to_team(7, "T").rep_id == 1
    assert allocator.to_team(7, "T", exclude=frozenset({1, 2})).rep_id is None


def test_named_rep_out_of_office_is_not_offered():
    allocator = Allocator.of([RepSlot(1, "Ana", 7, away="out of office until Monday")])
    choice = allocator.to_rep(1)
    assert choice.rep_id is None and "Ana is out of office" in choice.explanation
    assert allocator.to_rep(99).rep_id is None


def test_ten_thousand_rows_evaluate_fast():
    n = 10_000
    big = pd.DataFrame(
        {"country": np.where(np.arange(n) % 2, "Brazil", "Chile"), "score": np.arange(n) % 100}
    )
    rules = [rule(i, {"field": "score", "op": "gte", "value": 100 - i}) for i in range(1, 30)]
    rules.append(rule(99, {"field": "country", "op": "eq", "value": "brazil"}))
    matches = first_matching_rule(big, rules)
    assert (matches >= 0).sum() > n / 2
