"""Engagement points learned from the system's own won and lost leads, where history allows;
defaults kept, with the reason, where it does not; the evidence on the report and the page."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from leadpact.campaigns.models import Touch
from leadpact.factories import LeadFactory
from leadpact.leads.models import Lead, LeadState
from leadpact.scoring.engine.engagement import (
    EngagementRule,
    EngagementRules,
    learn_engagement_rules,
)
from leadpact.scoring.services.fitting import profile_fit_from_history
from leadpact.scoring.tests import synthetic


def test_engine_learns_where_both_outcomes_have_touches_and_keeps_the_rest():
    rng = np.random.default_rng(0)
    n = 600
    y = (rng.random(n) < 0.4).astype(int)
    fit = rng.normal(500, 20, n)
    lead, kinds = [], []
    for i in range(n):
        if rng.random() < (0.7 if y[i] else 0.15):  # fills: far more common among won
            lead.append(i)
            kinds.append("form_fill")
        if rng.random() < 0.5:  # views: as common either way
            lead.append(i)
            kinds.append("page_view")
    for i in np.flatnonzero(y)[:4]:  # webinars: four won leads only
        lead.append(int(i))
        kinds.append("webinar")
    base = EngagementRules(
        [
            EngagementRule("form_fill", 15, half_life_days=60, cap=30),
            EngagementRule("page_view", 1, half_life_days=14, cap=10),
            EngagementRule("webinar", 12, half_life_days=60, cap=24),
        ]
    )
    rules, evidence = learn_engagement_rules(
        np.array(lead), kinds, np.zeros(len(kinds)), y, fit, base, pdo=20
    )
    by_kind = {r.kind: r for r in rules}
    seen = {e["kind"]: e for e in evidence}
    assert seen["form_fill"]["learned"] and by_kind["form_fill"].points > 30
    assert by_kind["form_fill"].cap == round(by_kind["form_fill"].points * 2)  # cap ratio kept
    assert seen["page_view"]["learned"] and by_kind["page_view"].points <= 3
    assert not seen["webinar"]["learned"] and by_kind["webinar"].points == 12
    assert "kept 12: too little history (4 won and 0 lost" in seen["webinar"]["reason"]
    assert seen["form_fill"]["won_with"] > seen["form_fill"]["lost_with"] / 2


@pytest.mark.django_db
def test_fit_from_history_learns_engagement_and_shows_the_evidence(users, client_for):
    X, y = synthetic.leads(400, seed=3)
    now = timezone.now()
    Lead.objects.bulk_create(
        LeadFactory.build(
            email_key=f"h{i}@example.com",
            source_channel=X["source"][i] or "",
            state=LeadState.WON if y[i] else LeadState.LOST,
            attributes={"occupation": X["occupation"][i]},
            captured_at=now - timedelta(days=90),
        )
        for i in range(len(y))
    )
    leads = list(Lead.objects.order_by("pk"))
    rng = np.random.default_rng(1)
    touches = []
    for lead in leads:
        won = lead.state == LeadState.WON
        day = lead.captured_at + timedelta(days=2)
        if rng.random() < (0.8 if won else 0.2):
            touches.append(Touch(lead=lead, kind="form_fill", occurred_at=day, channel="web"))
        # after the window, and sales calls: never evidence, however telling
        touches.append(
            Touch(lead=lead, kind="email_click" if won else "page_view", occurred_at=now)
        )
        if won:
            touches.append(Touch(lead=lead, kind="call", occurred_at=day))
    for i, touch in enumerate(touches):
        touch.idempotency_key = f"t{i}"
    Touch.objects.bulk_create(touches)
    profile = profile_fit_from_history(actor=users["marketing"])
    report = profile.report["engagement"]
    seen = {e["kind"]: e for e in report["kinds"]}
    rules = {r["kind"]: r for r in profile.engagement_rules}
    assert seen["form_fill"]["learned"] and rules["form_fill"]["points"] > 15
    assert seen["email_click"]["won_with"] == 0 and not seen["email_click"]["learned"]
    assert rules["email_click"]["points"] == 4  # the default, kept
    assert "call" not in seen  # sales-side: left out
    assert "Learned for form_fill" in report["summary"]
    page = client_for("sales_rep").get(reverse("scoring:version", args=[profile.pk])).text
    assert "Where these engagement points come from" in page and "too little history" in page
