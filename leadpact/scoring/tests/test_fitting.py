"""A draft fitted from the system's own closed leads or from a CSV; bad history is refused."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.utils import timezone

from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.factories import LeadFactory
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.scoring.engine.spec import compile_spec
from leadpact.scoring.models import LeadProfile, ProfileStatus
from leadpact.scoring.services.fitting import profile_fit_from_csv, profile_fit_from_history
from leadpact.scoring.tests import synthetic

pytestmark = pytest.mark.django_db


def _closed_leads(n: int = 300, *, all_won: bool = False) -> None:
    X, y = synthetic.leads(n, seed=3)
    if all_won:
        y = np.ones_like(y)
    now = timezone.now()
    Lead.objects.bulk_create(
        LeadFactory.build(
            email_key=f"h{i}@example.com",
            source_channel=X["source"][i] or "",
            state=LeadState.WON if y[i] else LeadState.LOST,
            attributes={
                "minutes": None if np.isnan(X["minutes"][i]) else float(X["minutes"][i]),
                "occupation": X["occupation"][i],
            },
            captured_at=now,
        )
        for i in range(n)
    )


def test_fit_from_closed_leads_makes_a_draft_with_its_report(users):
    _closed_leads()
    profile = profile_fit_from_history(actor=users["marketing"])
    assert profile.status == ProfileStatus.DRAFT and profile.author == users["marketing"]
    names = {a["attribute"] for a in profile.scorecard["attributes"]}
    assert "minutes" in names
    assert profile.report["validation"]["auc_mean"] > 0.7
    assert profile.report["capture_curve"][-1]["share_of_conversions"] == pytest.approx(1.0)
    compile_spec(profile.scorecard)  # stored spec scores again
    assert profile.events.get().action == "created"


def test_sales_rejections_count_as_negatives(users):
    _closed_leads()
    rejected = LeadFactory.create_batch(5, state=LeadState.RECYCLED, source_channel="referral")
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            lead=lead,
            kind="state_change",
            summary="rejected",
            data={"rejected": True, "from": "offered", "to": "recycled"},
            occurred_at=timezone.now(),
        )
        for lead in rejected
    )
    profile = profile_fit_from_history(actor=users["marketing"])
    assert profile.report["rows"] == 305
    assert profile.report["positives"] == Lead.objects.filter(state=LeadState.WON).count()


def test_history_with_no_negatives_is_refused_with_the_engines_message(users):
    _closed_leads(80, all_won=True)
    with pytest.raises(ApplicationError, match="no negative outcomes"):
        profile_fit_from_history(actor=users["marketing"])
    assert not LeadProfile.objects.exists()


def test_too_few_closed_leads(users):
    _closed_leads(20)
    with pytest.raises(ApplicationError, match=r"too few rows|no positive|no negative"):
        profile_fit_from_history(actor=users["marketing"])
    assert not LeadProfile.objects.exists()


def test_no_history_at_all_and_reps_may_not_fit(users):
    with pytest.raises(ApplicationError, match="No closed leads"):
        profile_fit_from_history(actor=users["marketing"])
    with pytest.raises(PermissionDeniedError, match="Only marketing"):
        profile_fit_from_history(actor=users["sales_rep"])


def _csv(X, y) -> io.BytesIO:
    frame = X.drop(columns=["status_after_call"], errors="ignore").assign(converted=y)
    return io.BytesIO(frame.to_csv(index=False).encode())


def test_fit_from_csv(users):
    X, y = synthetic.leads(300, seed=5)
    profile = profile_fit_from_csv(
        actor=users["marketing"], upload=_csv(X, y), file_name="h.csv", outcome="converted"
    )
    assert profile.source == "file h.csv"
    assert profile.report["rows"] == 300


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: (X.assign(noise=1.0), y * 0), "no positive outcomes"),
        (lambda X, y: (X.head(30), y[:30]), "too few rows"),
        (lambda X, y: (X[["noise"]].assign(noise=1.0), y), "every attribute is constant"),
    ],
)
def test_bad_csv_is_refused_and_names_the_problem(users, change, message):
    X, y = synthetic.leads(200, seed=5)
    X, y = change(X.assign(status_after_call="x"), y)
    with pytest.raises(ApplicationError, match=message):
        profile_fit_from_csv(
            actor=users["marketing"], upload=_csv(X, y), file_name="h.csv", outcome="converted"
        )
    assert not LeadProfile.objects.exists()


def test_csv_with_unknown_outcome_column(users):
    X, y = synthetic.leads(100, seed=5)
    with pytest.raises(ApplicationError, match="unknown column"):
        profile_fit_from_csv(
            actor=users["marketing"], upload=_csv(X, y), file_name="h.csv", outcome="won"
        )
