from __future__ import annotations

import pytest

from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.pipeline.models import Stage
from leadpact.pipeline.services.pipelines import (
    StageInput,
    pipeline_create,
    stage_add,
    stage_delete,
    stage_update,
)


def test_pipeline_keeps_stage_order_and_becomes_default(pipeline):
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names == ["Discovery", "Proposal", "Negotiation", "Won", "Lost"]
    assert pipeline.is_default
    assert pipeline.stages.get(name="Discovery").exit_criteria == [
        "Budget confirmed",
        "Decision maker known",
    ]


@pytest.mark.django_db
def test_pipeline_without_won_stage_is_refused():
    with pytest.raises(ApplicationError, match="won stage"):
        pipeline_create(name="Bad", stages=[StageInput("A", 10), StageInput("L", 0, kind="lost")])
    with pytest.raises(ApplicationError, match="between 0 and 100"):
        pipeline_create(name="Bad", stages=[StageInput("A", 120), StageInput("W", 100, "won")])
    with pytest.raises(ApplicationError, match="Two stages"):
        pipeline_create(
            name="Bad", stages=[StageInput("A", 1), StageInput("a", 2), StageInput("W", 100, "won")]
        )


def test_deleting_a_stage_with_deals_is_refused(make_deal, pipeline):
    deal = make_deal()
    with pytest.raises(ConflictError, match="move them"):
        stage_delete(stage=deal.stage)
    assert Stage.objects.filter(pk=deal.stage_id).exists()
    stage_delete(stage=pipeline.stages.get(name="Proposal"))
    assert not pipeline.stages.filter(name="Proposal").exists()


def test_the_last_won_stage_cannot_go(pipeline):
    won = pipeline.stages.get(kind="won")
    with pytest.raises(ApplicationError, match="won stage"):
        stage_delete(stage=won)
    with pytest.raises(ApplicationError, match="won stage"):
        stage_update(stage=won, kind="open", probability=90)


def test_stage_add_shifts_positions(pipeline):
    stage_add(pipeline=pipeline, stage=StageInput("Demo", 25), position=1)
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names[:3] == ["Discovery", "Demo", "Proposal"]
