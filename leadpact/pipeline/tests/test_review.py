"""The pipeline review: figures, movement, conversion, who sees what, fixed queries, bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.pipeline import review_selectors, selectors
from leadpact.pipeline.models import Deal, DealEvent
from leadpact.pipeline.services.deals import DealInput, deal_create, deal_move, deal_update
from leadpact.pipeline.tests.helpers import CRITERIA
from leadpact.pipeline.tests.helpers import deal_age as _age


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The stage-entry read is cached for minutes; each test starts without it."""
    cache.clear()
    yield
    cache.clear()


def _review(user, pipeline, **kwargs):
    filters = review_selectors.ReviewFilters(
        pipeline=pipeline, today=timezone.localdate(), **kwargs
    )
    return review_selectors.review(
        user=user, filters=filters, stages=selectors.pipeline_stages(pipeline)
    )


def test_matrix_by_stage_and_category(make_deal, pipeline, users):
    rep = users["sales_rep"]
    make_deal(amount="100.00")
    make_deal(amount="250.50", forecast_category="commit")
    third = make_deal(amount="1000.00")
    deal_move(
        deal=third,
        actor=rep,
        stage=pipeline.stages.get(name="Proposal"),
        version=1,
        confirmed=CRITERIA,
    )
    make_deal(amount="999.00", currency="USD")
    data = _review(users["admin"], pipeline)
    assert data.currency == "EUR" and data.other_currencies == ["USD"]
    discovery, proposal = data.matrix[0], data.matrix[1]
    cells = {c["category"]: c for c in discovery.cells}
    assert cells["pipeline"]["count"] == 2  # one EUR, one USD
    assert cells["pipeline"]["amount"] == Decimal("100.00")  # amounts in EUR only
    assert cells["commit"] == {"category": "commit", "count": 1, "amount": Decimal("250.50")}
    assert proposal.count == 1 and proposal.amount == Decimal("1000.00")
    assert data.totals["count"] == 4 and data.totals["amount"] == Decimal("1350.50")
    assert [d["label"] for d in data.chart["datasets"]][:3] == ["Pipeline", "Best case", "Commit"]
    (row,) = data.reps
    assert row.owner == rep and row.count == 4 and row.commit == Decimal("250.50")


def test_movement_since_last_week(make_deal, pipeline, users):
    rep = users["sales_rep"]
    proposal = pipeline.stages.get(name="Proposal")
    negotiation = pipeline.stages.get(name="Negotiation")
    old = make_deal(name="Old")
    _age(old, 30)
    advanced = make_deal(name="Advanced")
    _age(advanced, 30)
    deal_move(deal=advanced, actor=rep, stage=proposal, version=1, confirmed=CRITERIA)
    pushed = make_deal(name="Pushed")
    _age(pushed, 30)
    deal_update(
        deal=pushed, actor=rep, version=1, close_date=pushed.close_date + dt.timedelta(days=30)
    )
    back = make_deal(name="Back")
    deal_move(deal=back, actor=rep, stage=proposal, version=1, confirmed=CRITERIA)
    deal_move(deal=back, actor=rep, stage=pipeline.stages.get(name="Discovery"), version=2)
    won = make_deal(name="Winner", amount="500.00")
    deal_move(deal=won, actor=rep, stage=proposal, version=1, confirmed=CRITERIA)
    deal_move(deal=won, actor=rep, stage=negotiation, version=2)
    deal_move(
        deal=won,
        actor=rep,
        stage=pipeline.stages.get(kind="won"),
        version=3,
        confirmed=["Terms agreed"],
    )
    lost = make_deal(name="Loser")
    deal_move(
        deal=lost, actor=rep, stage=pipeline.stages.get(kind="lost"), version=1, lost_reason="Price"
    )
    data = _review(users["sales_manager"], pipeline)
    names = {m.kind: sorted(d.name for d in m.deals) for m in data.movement}
    assert names["new"] == ["Back", "Loser", "Winner"]
    assert names["advanced"] == ["Advanced", "Back", "Winner"]
    assert names["slipped"] == ["Back", "Pushed"]
    assert names["won"] == ["Winner"] and names["lost"] == ["Loser"]
    won_section = next(m for m in data.movement if m.kind == "won")
    assert won_section.count == 1 and won_section.amount == Decimal("500.00")
    # a week ago nothing of this had happened yet
    quiet = _review(users["sales_manager"], pipeline, movement_days=1)
    assert {m.kind: m.count for m in quiet.movement}["slipped"] == 2


def test_conversion_and_days_in_stage(make_deal, pipeline, users):
    rep = users["sales_rep"]
    proposal = pipeline.stages.get(name="Proposal")
    lost = pipeline.stages.get(kind="lost")
    now = timezone.now()
    # Three deals enter Discovery 10 days ago; two move on after 4½ and 6½ days, one is lost
    # after 2½.
    for days, target in ((4.5, proposal), (6.5, proposal), (2.5, lost)):
        deal = make_deal()
        deal_move(
            deal=deal, actor=rep, stage=target, version=1, confirmed=CRITERIA, lost_reason="Price"
        )
        DealEvent.objects.filter(deal=deal, kind="created").update(
            occurred_at=now - dt.timedelta(days=10)
        )
        DealEvent.objects.filter(deal=deal, kind="stage").update(
            occurred_at=now - dt.timedelta(days=10 - days)
        )
    make_deal()  # still in Discovery: entered, not left
    flows = {f.stage.name: f for f in _review(users["admin"], pipeline).flows}
    discovery = flows["Discovery"]
    assert (discovery.entered, discovery.left, discovery.advanced) == (4, 3, 2)
    assert discovery.conversion == pytest.approx(2 / 3)
    assert discovery.avg_days == pytest.approx(4.5, abs=0.01)
    assert discovery.median_days == pytest.approx(4.5, abs=0.01)
    assert flows["Proposal"].entered == 2 and flows["Proposal"].conversion is None
    # Entries older than the history window are not counted.
    old = _review(users["admin"], pipeline, history_days=1)
    assert {f.stage.name: f.entered for f in old.flows}["Discovery"] == 1


def test_stale_and_overdue(make_deal, users, pipeline):
    quiet = make_deal(name="Quiet")
    _age(quiet, 30)
    late = make_deal(name="Late")
    Deal.objects.filter(pk=late.pk).update(close_date=timezone.localdate() - dt.timedelta(days=2))
    make_deal(name="Fresh")
    data = _review(users["sales_rep"], pipeline)
    assert [d.name for d in data.stale] == ["Quiet"] and data.stale_count == 1
    assert [d.name for d in data.overdue] == ["Late"] and data.overdue_count == 1
    assert _review(users["other_rep"], pipeline).stale_count == 0


def test_marketing_sees_the_deals_from_its_leads(make_deal, users, pipeline, client_for):
    make_deal(name="Direct deal")
    lead = LeadFactory(state=LeadState.SQL, owner=users["sales_rep"], company_name="Lead Co")
    deal_create(
        data=DealInput(
            name="From a lead",
            amount="700",
            currency="EUR",
            close_date=timezone.localdate() + dt.timedelta(days=3),
        ),
        actor=users["sales_rep"],
        lead=lead,
    )
    response = client_for("marketing").get("/pipeline/review/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "From a lead" in page and "Direct deal" not in page
    assert "Deals from marketing's leads" in page
    manager = client_for("sales_manager").get("/pipeline/review/").content.decode()
    assert "From a lead" in manager and "Direct deal" in manager
    only_leads = client_for("sales_manager").get("/pipeline/review/?source=leads")
    assert "Direct deal" not in only_leads.content.decode()


def test_review_page_filters_and_roles(make_deal, users, client_for, sales_team):
    make_deal(name="Reps deal")
    make_deal(name="Others deal", owner=users["other_rep"])
    admin = client_for("admin")
    page = admin.get("/pipeline/review/").content.decode()
    assert "Reps deal" in page and "Others deal" in page and 'id="stage-chart"' in page
    assert 'id="by-team"' in page and "Sales East" in page and "No team" in page
    page = admin.get(f"/pipeline/review/?team={sales_team.pk}").content.decode()
    assert "Reps deal" in page and "Others deal" not in page
    page = admin.get(f"/pipeline/review/?rep={users['other_rep'].pk}").content.decode()
    assert "Reps deal" not in page and "Others deal" in page
    rep = client_for("sales_rep").get("/pipeline/review/").content.decode()
    assert "Reps deal" in rep and "Others deal" not in rep and 'id="bulk"' not in rep
    manager = client_for("sales_manager").get("/pipeline/review/").content.decode()
    assert 'id="bulk"' in manager


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=abc", "No-activity days must be a whole number"),
        ("days=0", "between 1 and 365"),
        ("since=-3", "Movement days must be a whole number"),
        ("pipeline=999999", "No such pipeline"),
        ("team=999999", "can&#x27;t review that team"),
        ("rep=999999", "can&#x27;t review that person"),
    ],
)
def test_bad_filters_are_a_clear_400(make_deal, client_for, query, message):
    make_deal()
    response = client_for("sales_manager").get(f"/pipeline/review/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_rep_cannot_review_someone_else(make_deal, users, client_for):
    make_deal(name="Theirs", owner=users["other_rep"])
    response = client_for("sales_rep").get(f"/pipeline/review/?rep={users['other_rep'].pk}")
    assert response.status_code == 400 and "Theirs" not in response.content.decode()


def test_review_runs_a_fixed_number_of_queries(
    review_seed, users, client_for, django_assert_num_queries
):
    seed = review_seed
    # Every section has deals in every open stage from the start, so the count below is the
    # page's whole cost: session and user, pipelines, teams and reps, stages, the aggregate,
    # movement and stage entries, 2 stale + 2 overdue id lists (one per open stage that has
    # some), the listed deals, their owners.
    seed(6)
    client = client_for("sales_manager")
    client.get("/pipeline/review/")  # warm the session
    cache.clear()  # measure the whole cost, the stage entries read too
    with django_assert_num_queries(16) as few:
        assert client.get("/pipeline/review/").status_code == 200
    seed(30)
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/pipeline/review/")
    assert response.status_code == 200 and response.content.decode().count('name="deal"') > 10


def test_stage_entries_are_reused_for_a_few_minutes(make_deal, pipeline, users):
    make_deal()
    first = _review(users["admin"], pipeline)
    make_deal()
    again = _review(users["admin"], pipeline)  # the same query within minutes: reused
    assert first.flows[0].entered == again.flows[0].entered == 1
    assert again.totals["count"] == 2  # everything else is live
    other = _review(users["admin"], pipeline, history_days=30)  # another question: read anew
    assert other.flows[0].entered == 2
    cache.clear()
    assert _review(users["admin"], pipeline).flows[0].entered == 2


def test_reviews_opened_lately_are_refreshed_ahead_of_expiry(make_deal, pipeline, users):
    make_deal()
    assert _review(users["admin"], pipeline).flows[0].entered == 1
    _review(users["sales_manager"], pipeline, from_leads=True)
    make_deal()
    assert _review(users["admin"], pipeline).flows[0].entered == 1  # cached
    assert review_selectors.review_flows_refresh() == 2  # both reviews opened
    assert _review(users["admin"], pipeline).flows[0].entered == 2  # refreshed, not expired


def test_a_review_not_opened_for_a_day_is_no_longer_refreshed(make_deal, pipeline, users):
    make_deal()
    _review(users["admin"], pipeline)
    recent = cache.get(review_selectors.FLOW_RECENT_KEY)
    (spec,) = recent
    recent[spec] = (timezone.now() - dt.timedelta(days=2)).isoformat()
    cache.set(review_selectors.FLOW_RECENT_KEY, recent, None)
    assert review_selectors.review_flows_refresh() == 0
    assert cache.get(review_selectors.FLOW_RECENT_KEY) == {}


def test_a_deactivated_reader_drops_out_of_the_refresh(make_deal, pipeline, users):
    make_deal()
    _review(users["sales_manager"], pipeline)
    users["sales_manager"].is_active = False
    users["sales_manager"].save(update_fields=["is_active"])
    assert review_selectors.review_flows_refresh() == 0
    assert cache.get(review_selectors.FLOW_RECENT_KEY) == {}
