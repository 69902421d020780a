"""Configuring the sales process: pipelines, their stages and the reasons deals are lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.pipeline.models import Deal, LostReason, Pipeline, Stage


@dataclass(frozen=True)
class StageInput:
    name: str
    probability: int
    kind: str = Stage.Kind.OPEN
    exit_criteria: Sequence[str] = field(default_factory=tuple)


def _clean_stages(stages: Sequence[StageInput]) -> list[StageInput]:
    if not stages:
        raise ApplicationError("A pipeline needs stages.")
    seen: set[str] = set()
    cleaned = []
    for number, stage in enumerate(stages, start=1):
        name = (stage.name or "").strip()
        if not name:
            raise ApplicationError(f"Stage {number} has no name.")
        if name.lower() in seen:
            raise ApplicationError(f"Two stages are called {name!r}.")
        seen.add(name.lower())
        if stage.kind not in Stage.Kind.values:
            raise ApplicationError(f"Stage {name!r}: kind must be one of open, won, lost.")
        try:
            probability = int(stage.probability)
        except (TypeError, ValueError):
            raise ApplicationError(f"Stage {name!r}: probability must be a whole number.") from None
        if not 0 <= probability <= 100:
            raise ApplicationError(f"Stage {name!r}: probability must be between 0 and 100.")
        if stage.kind == Stage.Kind.WON and probability != 100:
            raise ApplicationError(f"Stage {name!r} is a won stage: its probability is 100.")
        if stage.kind == Stage.Kind.LOST and probability != 0:
            raise ApplicationError(f"Stage {name!r} is a lost stage: its probability is 0.")
        criteria = [str(c).strip() for c in stage.exit_criteria if str(c).strip()]
        cleaned.append(StageInput(name, probability, stage.kind, tuple(criteria)))
    kinds = [s.kind for s in cleaned]
    if Stage.Kind.WON not in kinds:
        raise ApplicationError("A pipeline needs a won stage, or no deal could ever be won.")
    if Stage.Kind.OPEN not in kinds:
        raise ApplicationError("A pipeline needs at least one open stage.")
    return cleaned


@transaction.atomic
def pipeline_create(
    *, name: str, stages: Sequence[StageInput], is_default: bool = False
) -> Pipeline:
    """A pipeline with its stages in the given order. Refused without a won stage."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the pipeline a name.")
    if Pipeline.objects.filter(name__iexact=name).exists():
        raise ConflictError(f"A pipeline called {name!r} already exists.")
    cleaned = _clean_stages(stages)
    if is_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    pipeline = Pipeline.objects.create(
        name=name, is_default=is_default or not Pipeline.objects.exists()
    )
    Stage.objects.bulk_create(
        [
            Stage(
                pipeline=pipeline,
                name=s.name,
                position=i,
                probability=s.probability,
                kind=s.kind,
                exit_criteria=list(s.exit_criteria),
            )
            for i, s in enumerate(cleaned)
        ]
    )
    return pipeline


@transaction.atomic
def stage_add(*, pipeline: Pipeline, stage: StageInput, position: int | None = None) -> Stage:
    existing = list(pipeline.stages.order_by("position", "id"))
    as_inputs = [StageInput(s.name, s.probability, s.kind, s.exit_criteria) for s in existing]
    at = len(existing) if position is None else max(0, min(position, len(existing)))
    cleaned = _clean_stages([*as_inputs[:at], stage, *as_inputs[at:]])
    new = cleaned[at]
    for s in existing[at:]:
        s.position += 1
    Stage.objects.bulk_update(existing[at:], ["position"])
    return Stage.objects.create(
        pipeline=pipeline,
        name=new.name,
        position=at,
        probability=new.probability,
        kind=new.kind,
        exit_criteria=list(new.exit_criteria),
    )


@transaction.atomic
def stage_update(*, stage: Stage, **changes: Any) -> Stage:
    """Rename, re-weight or re-word a stage; the pipeline must still have a won stage."""
    allowed = {"name", "probability", "kind", "exit_criteria"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ApplicationError(f"Unknown stage fields: {', '.join(unknown)}.")
    stages = list(Stage.objects.select_for_update().filter(pipeline_id=stage.pipeline_id))
    inputs = []
    for s in stages:
        values = {"name": s.name, "probability": s.probability, "kind": s.kind}
        values["exit_criteria"] = s.exit_criteria
        if s.pk == stage.pk:
            values.update(changes)
        inputs.append(StageInput(**values))
    cleaned = _clean_stages(inputs)
    mine = cleaned[[s.pk for s in stages].index(stage.pk)]
    if mine.kind != stage.kind and Deal.objects.filter(stage=stage).exists():
        raise ConflictError("Deals are in this stage: its kind can't change.")
    stage.name, stage.probability, stage.kind = mine.name, mine.probability, mine.kind
    stage.exit_criteria = list(mine.exit_criteria)
    stage.save()
    return stage


@transaction.atomic
def stage_delete(*, stage: Stage) -> None:
    """Refused while deals are in the stage (move them first) or if it is the last won stage."""
    locked = Stage.objects.select_for_update().get(pk=stage.pk)
    count = Deal.objects.filter(stage=locked).count()
    if count:
        raise ConflictError(
            f"{count} deal(s) are in stage {locked.name!r}; move them before deleting it.",
            code="stage_has_deals",
        )
    others = Stage.objects.filter(pipeline_id=locked.pipeline_id).exclude(pk=locked.pk)
    _clean_stages([StageInput(s.name, s.probability, s.kind, s.exit_criteria) for s in others])
    locked.delete()


def lost_reason_create(*, label: str) -> LostReason:
    label = (label or "").strip()
    if not label:
        raise ApplicationError("Give the lost reason a label.")
    reason, _ = LostReason.objects.get_or_create(label=label)
    return reason
