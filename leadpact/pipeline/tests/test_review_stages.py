"""The stage columns of the timeline (``DealEvent.stage`` entered, ``from_stage`` left) stay in
step with the entries' JSON for every way a deal changes stage, and the migration fills them
for the entries written before."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

from leadpact.pipeline.models import Deal, DealEvent
from leadpact.pipeline.services.deals import deal_move
from leadpact.pipeline.services.pipelines import StageInput, stage_add, stage_delete
from leadpact.pipeline.tests.test_review import CRITERIA, _review

ENTRIES = [DealEvent.Kind.CREATED, DealEvent.Kind.STAGE]


def _in_step() -> list[tuple[str, int | None, int | None]]:
    """Every stage entry as (kind, stage entered, stage left) after checking that its columns
    say what its JSON says; other entries name no stage."""
    found = []
    for event in DealEvent.objects.order_by("id"):
        data = event.data
        if event.kind == DealEvent.Kind.CREATED:
            expected = (data["stage"], None)
        elif event.kind == DealEvent.Kind.STAGE:
            expected = (data["to_stage"], data["from_stage"])
        else:
            expected = (None, None)
        assert (event.stage_id, event.from_stage_id) == expected, (event.kind, event.data)
        if event.kind in ENTRIES:
            found.append((event.kind, event.stage_id, event.from_stage_id))
    return found


def test_created_and_moved_through_the_services(make_deal, pipeline, users):
    rep = users["sales_rep"]
    discovery, proposal, negotiation, won, lost = pipeline.stages.order_by("position")
    deal = make_deal()
    deal_move(deal=deal, actor=rep, stage=proposal, version=1, confirmed=CRITERIA)
    deal_move(deal=deal, actor=rep, stage=negotiation, version=2)
    deal_move(deal=deal, actor=rep, stage=won, version=3, confirmed=["Terms agreed"])
    loser = make_deal()
    deal_move(deal=loser, actor=rep, stage=lost, version=1, lost_reason="Price")
    assert _in_step() == [
        ("created", discovery.pk, None),
        ("stage", proposal.pk, discovery.pk),
        ("stage", negotiation.pk, proposal.pk),
        ("stage", won.pk, negotiation.pk),
        ("created", discovery.pk, None),
        ("stage", lost.pk, discovery.pk),
    ]


def test_moved_from_the_board_or_deal_page_and_the_api(make_deal, pipeline, client_for):
    proposal = pipeline.stages.get(name="Proposal")
    negotiation = pipeline.stages.get(name="Negotiation")
    deal = make_deal()
    page = client_for("sales_rep").post(
        f"/pipeline/deals/{deal.pk}/move/",
        {"stage": proposal.pk, "version": 1, "confirmed": CRITERIA, "back": "/pipeline/"},
    )
    assert page.status_code == 302
    api = client_for("sales_rep").post(
        f"/api/pipeline/deals/{deal.pk}/move/",
        {"stage": negotiation.pk, "version": 2},
        content_type="application/json",
    )
    assert api.status_code == 200
    assert [e[1:] for e in _in_step()][1:] == [
        (proposal.pk, deal.stage_id),
        (negotiation.pk, proposal.pk),
    ]


def test_moved_in_bulk_from_the_review(make_deal, pipeline, client_for):
    proposal = pipeline.stages.get(name="Proposal")
    deals = [make_deal(name=f"Deal {i}") for i in range(3)]
    response = client_for("sales_manager").post(
        "/pipeline/review/bulk/",
        {"deal": [f"{d.pk}:1" for d in deals], "stage": proposal.pk, "confirmed": CRITERIA},
    )
    assert response.status_code == 302
    assert Deal.objects.filter(stage=proposal).count() == 3
    moves = [e for e in _in_step() if e[0] == "stage"]
    assert moves == [("stage", proposal.pk, deals[0].stage_id)] * 3


def test_moved_off_a_deleted_stage_keeps_its_id(make_deal, pipeline, users):
    extra = stage_add(pipeline=pipeline, stage=StageInput("Qualification", 20), position=1)
    deal = make_deal()
    deal_move(deal=deal, actor=users["sales_rep"], stage=extra, version=1, confirmed=CRITERIA)
    discovery = pipeline.stages.get(name="Discovery")
    assert stage_delete(stage=extra, move_to=discovery, actor=users["admin"]) == 1
    # Like the JSON, the columns keep the id of the stage that is gone.
    assert _in_step() == [
        ("created", discovery.pk, None),
        ("stage", extra.pk, discovery.pk),
        ("stage", discovery.pk, extra.pk),
    ]
    # The review counts no spell of the stage that is gone: the one before it did not end.
    flows = {f.stage.name: f for f in _review(users["admin"], pipeline).flows}
    assert (flows["Discovery"].entered, flows["Discovery"].left) == (2, 0)


def test_the_migration_fills_the_columns_from_the_json(make_deal, pipeline, users):
    rep = users["sales_rep"]
    deal = make_deal()
    deal_move(
        deal=deal,
        actor=rep,
        stage=pipeline.stages.get(name="Proposal"),
        version=1,
        confirmed=CRITERIA,
    )
    make_deal()
    before = _in_step()
    DealEvent.objects.update(stage=None, from_stage=None)
    assert not DealEvent.objects.filter(stage__isnull=False).exists()
    migration = importlib.import_module("leadpact.pipeline.migrations.0003_dealevent_stage_columns")
    migration.fill_stages(apps, SimpleNamespace(connection=connection))
    assert _in_step() == before


def test_the_review_reads_the_columns(make_deal, pipeline, users):
    """The figures come from the columns (what the index covers), not from the JSON."""
    deal = make_deal()
    deal_move(
        deal=deal,
        actor=users["sales_rep"],
        stage=pipeline.stages.get(name="Proposal"),
        version=1,
        confirmed=CRITERIA,
    )
    DealEvent.objects.update(data={})
    flows = {f.stage.name: f for f in _review(users["admin"], pipeline).flows}
    assert (flows["Discovery"].entered, flows["Discovery"].advanced) == (1, 1)
    moved = {m.kind: m.count for m in _review(users["admin"], pipeline).movement}
    assert moved["advanced"] == 1
