"""Sales-process settings: services, pages and API, with the bad input each refuses."""

from __future__ import annotations

import pytest

from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.pipeline.models import Deal, DealEvent, LostReason, Pipeline, Stage
from leadpact.pipeline.services.deals import deal_move
from leadpact.pipeline.services.pipelines import (
    StageInput,
    lost_reason_create,
    lost_reason_set_active,
    pipeline_create,
    pipeline_update,
    stage_delete,
    stage_place,
    stage_reorder,
    stage_shift,
    stage_update,
)


def _names(pipeline):
    return list(pipeline.stages.order_by("position").values_list("name", flat=True))


# --- services --------------------------------------------------------------------------------


def test_rename_and_default(pipeline):
    other = pipeline_create(
        name="Renewals", stages=[StageInput("Open", 50), StageInput("Won", 100, "won")]
    )
    pipeline_update(pipeline=other, name="Renewals 2027", is_default=True)
    other.refresh_from_db()
    pipeline.refresh_from_db()
    assert other.name == "Renewals 2027" and other.is_default and not pipeline.is_default
    with pytest.raises(ConflictError, match="already exists"):
        pipeline_update(pipeline=other, name="new BUSINESS")
    with pytest.raises(ApplicationError, match="a name"):
        pipeline_update(pipeline=other, name="  ")
    with pytest.raises(ApplicationError, match="another pipeline the default"):
        pipeline_update(pipeline=other, is_default=False)


def test_reorder_and_shift(pipeline):
    ids = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    stage_reorder(pipeline=pipeline, order=[ids[1], ids[0], *ids[2:]])
    assert _names(pipeline)[:2] == ["Proposal", "Discovery"]
    stage_shift(stage=pipeline.stages.get(name="Discovery"), by=-1)
    assert _names(pipeline)[:2] == ["Discovery", "Proposal"]
    stage_place(stage=pipeline.stages.get(name="Discovery"), position=99)
    assert _names(pipeline)[-1] == "Discovery"
    with pytest.raises(ApplicationError, match="exactly once"):
        stage_reorder(pipeline=pipeline, order=ids[:2])
    with pytest.raises(ApplicationError, match="by their numbers"):
        stage_reorder(pipeline=pipeline, order=["x"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "proposal"}, "Two stages are called"),
        ({"probability": 101}, "between 0 and 100"),
        ({"probability": "lots"}, "whole number"),
        ({"name": ""}, "has no name"),
        ({"kind": "maybe"}, "kind must be one of"),
        ({"colour": "red"}, "Unknown stage fields"),
    ],
)
def test_bad_stage_edits_are_refused(pipeline, changes, message):
    discovery = pipeline.stages.get(name="Discovery")
    with pytest.raises(ApplicationError, match=message):
        stage_update(stage=discovery, **changes)
    discovery.refresh_from_db()
    assert discovery.name == "Discovery" and discovery.probability == 10


def test_deleting_a_stage_moves_its_deals_first_when_asked(make_deal, pipeline, users):
    deal = make_deal()
    discovery, proposal = deal.stage, pipeline.stages.get(name="Proposal")
    with pytest.raises(ConflictError, match="1 deal") as err:
        stage_delete(stage=discovery)
    assert err.value.extra == {"deals": 1}
    with pytest.raises(ApplicationError, match="another open stage"):
        stage_delete(stage=discovery, move_to=pipeline.stages.get(kind="won"))
    assert Stage.objects.filter(pk=discovery.pk).exists()
    moved = stage_delete(stage=discovery, move_to=proposal, actor=users["sales_manager"])
    deal.refresh_from_db()
    assert moved == 1 and deal.stage == proposal and deal.version == 2
    event = deal.events.get(kind=DealEvent.Kind.STAGE)
    assert event.actor == users["sales_manager"] and "stage removed" in event.summary
    assert list(pipeline.stages.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
        3,
    ]


def test_a_pipeline_without_won_stage_is_refused_everywhere(pipeline):
    with pytest.raises(ApplicationError, match="won stage"):
        pipeline_create(name="No wins", stages=[StageInput("A", 10), StageInput("B", 20)])
    assert not Pipeline.objects.filter(name="No wins").exists()
    with pytest.raises(ApplicationError, match="won stage"):
        stage_update(stage=pipeline.stages.get(kind="won"), kind="open", probability=90)


def test_lost_reasons(db):
    price = lost_reason_create(label="Price")
    with pytest.raises(ConflictError, match="already exists"):
        lost_reason_create(label="price")
    with pytest.raises(ApplicationError, match="label"):
        lost_reason_create(label=" ")
    lost_reason_set_active(reason=price, active=False)
    assert lost_reason_create(label="PRICE").pk == price.pk
    price.refresh_from_db()
    assert price.is_active


def test_deactivated_reason_cannot_be_chosen(make_deal, pipeline, users):
    lost_reason_set_active(reason=lost_reason_create(label="Timing"), active=False)
    lost_reason_create(label="Price")
    deal = make_deal()
    with pytest.raises(ApplicationError, match="Unknown lost reason"):
        deal_move(
            deal=deal,
            actor=users["sales_rep"],
            stage=pipeline.stages.get(kind="lost"),
            version=1,
            lost_reason="Timing",
        )


# --- pages -----------------------------------------------------------------------------------


def test_settings_page_shows_configured_and_learned(make_deal, pipeline, users, client_for):
    rep = users["sales_rep"]
    won = pipeline.stages.get(kind="won")
    for _ in range(2):
        deal = make_deal()
        deal_move(
            deal=deal,
            actor=rep,
            stage=pipeline.stages.get(name="Proposal"),
            version=1,
            confirmed=["Budget confirmed", "Decision maker known"],
        )
        deal_move(deal=deal, actor=rep, stage=won, version=2)
    page = client_for("sales_manager").get("/pipeline/process/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="stage-' in html and "Learned" in html and "100%" in html
    for role in ("sales_rep", "marketing", "other_rep"):
        assert client_for(role).get("/pipeline/process/").status_code == 403
    assert client_for("admin").get("/pipeline/process/").status_code == 200


def test_settings_pages_change_the_process(pipeline, client_for, make_deal):
    client = client_for("sales_manager")
    discovery = pipeline.stages.get(name="Discovery")
    r = client.post(
        f"/pipeline/process/stages/{discovery.pk}/",
        {"name": "Qualify", "probability": "15", "exit_criteria": "A\nB\n"},
        follow=True,
    )
    assert "Stage Qualify saved" in r.content.decode()
    discovery.refresh_from_db()
    assert discovery.probability == 15 and discovery.exit_criteria == ["A", "B"]
    r = client.post(
        f"/pipeline/process/stages/{discovery.pk}/", {"probability": "150"}, follow=True
    )
    assert "between 0 and 100" in r.content.decode()
    r = client.post(f"/pipeline/process/stages/{discovery.pk}/", {"name": "Proposal"}, follow=True)
    assert "Two stages are called" in r.content.decode()
    r = client.post(
        f"/pipeline/process/pipelines/{pipeline.pk}/stages/",
        {"name": "Demo", "probability": "25", "kind": "open", "position": "1"},
        follow=True,
    )
    assert "Stage Demo added" in r.content.decode() and _names(pipeline)[1] == "Demo"
    r = client.post(
        f"/pipeline/process/pipelines/{pipeline.pk}/stages/",
        {"name": "Odd", "probability": "x"},
        follow=True,
    )
    assert "Probability must be a whole number" in r.content.decode()
    demo = pipeline.stages.get(name="Demo")
    client.post(f"/pipeline/process/stages/{demo.pk}/shift/", {"direction": "up"})
    assert _names(pipeline)[0] == "Demo"
    client.post(f"/pipeline/process/pipelines/{pipeline.pk}/", {"name": "Core"})
    pipeline.refresh_from_db()
    assert pipeline.name == "Core"


def test_delete_stage_page_offers_to_move_deals(make_deal, pipeline, client_for):
    deal = make_deal()
    client = client_for("admin")
    url = f"/pipeline/process/stages/{deal.stage_id}/delete/"
    r = client.post(url, {}, follow=True)
    assert "move them to another stage" in r.content.decode()
    assert Stage.objects.filter(pk=deal.stage_id).exists()
    proposal = pipeline.stages.get(name="Proposal")
    r = client.post(url, {"move_to": str(proposal.pk)}, follow=True)
    assert "1 deal(s) moved to Proposal" in r.content.decode()
    assert Deal.objects.get(pk=deal.pk).stage == proposal
    r = client.post(
        f"/pipeline/process/stages/{proposal.pk}/delete/", {"move_to": "999999"}, follow=True
    )
    assert "No such stage" in r.content.decode()


def test_new_pipeline_page_and_its_bad_input(db, client_for, users):
    client = client_for("admin")
    r = client.post(
        "/pipeline/process/pipelines/new/",
        {
            "name": "Partners",
            "stages": "Intro | 10 | open | NDA signed; Fit\nWon | 100 | won\nLost | 0 | lost",
        },
        follow=True,
    )
    assert "Pipeline Partners created" in r.content.decode()
    partners = Pipeline.objects.get(name="Partners")
    assert partners.stages.get(name="Intro").exit_criteria == ["NDA signed", "Fit"]
    for stages, message in (
        ("Intro | 10\nLost | 0 | lost", "needs a won stage"),
        ("Intro | 10\nintro | 20\nWon | 100 | won", "Two stages are called"),
        ("Intro | 120\nWon | 100 | won", "between 0 and 100"),
        ("Intro\nWon | 100 | won", "Line 1"),
    ):
        r = client.post(
            "/pipeline/process/pipelines/new/", {"name": "Bad", "stages": stages}, follow=True
        )
        assert message in r.content.decode(), stages
    assert not Pipeline.objects.filter(name="Bad").exists()
    r = client.post(
        "/pipeline/process/pipelines/new/",
        {"name": "partners", "stages": "A | 1\nW | 100 | won"},
        follow=True,
    )
    assert "already exists" in r.content.decode()


def test_lost_reason_pages(db, client_for, users):
    client = client_for("sales_manager")
    client.post("/pipeline/process/lost-reasons/", {"label": "No budget"})
    reason = LostReason.objects.get(label="No budget")
    r = client.post("/pipeline/process/lost-reasons/", {"label": "no budget"}, follow=True)
    assert "already exists" in r.content.decode()
    client.post(f"/pipeline/process/lost-reasons/{reason.pk}/", {"active": "0"})
    reason.refresh_from_db()
    assert not reason.is_active
    assert (
        client_for("sales_rep").post("/pipeline/process/lost-reasons/", {"label": "x"}).status_code
        == 403
    )
    assert not LostReason.objects.filter(label="x").exists()


# --- API -------------------------------------------------------------------------------------


def test_api_parity(make_deal, pipeline, client_for):
    client = client_for("sales_manager")
    body = client.get(f"/api/pipeline/pipelines/{pipeline.pk}/").json()
    assert body["stages"][0]["name"] == "Discovery"
    assert "learned_probability" in body["stages"][0]
    r = client.patch(
        f"/api/pipeline/pipelines/{pipeline.pk}/",
        {"name": "Core"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["name"] == "Core"
    r = client.post(
        f"/api/pipeline/pipelines/{pipeline.pk}/stages/",
        {"name": "Demo", "probability": 20, "position": 1},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["position"] == 1
    demo = r.json()["id"]
    r = client.post(
        f"/api/pipeline/pipelines/{pipeline.pk}/stages/",
        {"name": "demo", "probability": 20},
        content_type="application/json",
    )
    assert r.status_code == 400 and "Two stages" in r.json()["error"]["message"]
    r = client.patch(
        f"/api/pipeline/stages/{demo}/", {"probability": 101}, content_type="application/json"
    )
    assert r.status_code == 400
    r = client.patch(
        f"/api/pipeline/stages/{demo}/",
        {"probability": 30, "position": 0},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["probability"] == 30 and r.json()["position"] == 0
    deal = make_deal()
    r = client.delete(f"/api/pipeline/stages/{deal.stage_id}/")
    assert r.status_code == 409 and r.json()["error"]["code"] == "stage_has_deals"
    assert deal.stage_id == demo  # the first open stage now
    proposal = pipeline.stages.get(name="Proposal")
    r = client.delete(f"/api/pipeline/stages/{demo}/?move_to={demo}")
    assert r.status_code == 400 and "different stage" in r.json()["error"]["message"]
    r = client.delete(f"/api/pipeline/stages/{demo}/?move_to={proposal.pk}")
    assert r.status_code == 204
    deal.refresh_from_db()
    assert deal.stage_id == proposal.pk
    r = client.post(
        "/api/pipeline/lost-reasons/", {"label": "Price"}, content_type="application/json"
    )
    assert r.status_code == 201
    r = client.patch(
        f"/api/pipeline/lost-reasons/{r.json()['id']}/",
        {"is_active": False},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["is_active"] is False
    rep = client_for("sales_rep")
    assert (
        rep.patch(
            f"/api/pipeline/stages/{demo}/", {"probability": 5}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        rep.post(
            "/api/pipeline/lost-reasons/", {"label": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    r = client.post(
        "/api/pipeline/pipelines/",
        {"name": "No wins", "stages": [{"name": "A", "probability": 5}]},
        content_type="application/json",
    )
    assert r.status_code == 400 and "won stage" in r.json()["error"]["message"]
