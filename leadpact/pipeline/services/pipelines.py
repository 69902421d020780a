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
        if len(name) > 100:
            raise ApplicationError(f"Stage {number}: keep the name under 100 characters.")
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
def stage_delete(*, stage: Stage, move_to: Stage | None = None, actor: Any = None) -> int:
    """Delete a stage. While deals are in it, it is refused unless ``move_to`` names another
    stage of the same pipeline and kind, where its deals go first (each move on the deal's
    timeline). The last won stage can't go. Returns the number of deals moved."""
    locked = Stage.objects.select_for_update().get(pk=stage.pk)
    count = Deal.objects.filter(stage=locked).count()
    others = Stage.objects.filter(pipeline_id=locked.pipeline_id).exclude(pk=locked.pk)
    _clean_stages([StageInput(s.name, s.probability, s.kind, s.exit_criteria) for s in others])
    moved = 0
    if count:
        if move_to is None:
            raise ConflictError(
                f"{count} deal(s) are in stage {locked.name!r}; move them to another stage "
                "before deleting it.",
                code="stage_has_deals",
                extra={"deals": count},
            )
        from leadpact.pipeline.services.deals import deals_move_stage_bulk

        moved = deals_move_stage_bulk(from_stage=locked, to_stage=move_to, actor=actor)
    locked.delete()
    _renumber(locked.pipeline_id)
    return moved


def _renumber(pipeline_id: int) -> None:
    stages = list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("position", "id"))
    for i, s in enumerate(stages):
        s.position = i
    Stage.objects.bulk_update(stages, ["position"])


@transaction.atomic
def stage_reorder(*, pipeline: Pipeline, order: Sequence[int]) -> list[Stage]:
    """Put the pipeline's stages in ``order`` (every stage id once)."""
    stages = {s.pk: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline)}
    try:
        ids = [int(i) for i in order]
    except (TypeError, ValueError):
        raise ApplicationError("Stages are given by their numbers.") from None
    if sorted(ids) != sorted(stages):
        raise ApplicationError("Give every stage of the pipeline exactly once to reorder them.")
    for position, pk in enumerate(ids):
        stages[pk].position = position
    Stage.objects.bulk_update(list(stages.values()), ["position"])
    return [stages[pk] for pk in ids]


def stage_shift(*, stage: Stage, by: int) -> list[Stage]:
    """Move a stage ``by`` places up (negative) or down (positive) its pipeline."""
    ids = _stage_ids(stage.pipeline_id)
    return stage_place(stage=stage, position=ids.index(stage.pk) + by)


def stage_place(*, stage: Stage, position: int) -> list[Stage]:
    """Put a stage at ``position`` (0 = first; past the end = last), the others keeping their
    order."""
    ids = _stage_ids(stage.pipeline_id)
    to = max(0, min(len(ids) - 1, int(position)))
    ids.insert(to, ids.pop(ids.index(stage.pk)))
    return stage_reorder(pipeline=stage.pipeline, order=ids)


def _stage_ids(pipeline_id: int) -> list[int]:
    return list(
        Stage.objects.filter(pipeline_id=pipeline_id)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def pipeline_update(
    *, pipeline: Pipeline, name: str | None = None, is_default: bool | None = None
) -> Pipeline:
    """Rename a pipeline or make it the default one."""
    locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    if name is not None:
        name = name.strip()
        if not name:
            raise ApplicationError("Give the pipeline a name.")
        if Pipeline.objects.filter(name__iexact=name).exclude(pk=locked.pk).exists():
            raise ConflictError(f"A pipeline called {name!r} already exists.")
        locked.name = name[:100]
    if is_default:
        Pipeline.objects.exclude(pk=locked.pk).filter(is_default=True).update(is_default=False)
        locked.is_default = True
    elif is_default is False and locked.is_default:
        raise ApplicationError("Make another pipeline the default instead.")
    locked.save()
    return locked


@transaction.atomic
def lost_reason_create(*, label: str) -> LostReason:
    """A new lost reason; an inactive one with the same label comes back instead."""
    label = (label or "").strip()
    if not label:
        raise ApplicationError("Give the lost reason a label.")
    if len(label) > 100:
        raise ApplicationError("Keep the lost reason under 100 characters.")
    existing = LostReason.objects.select_for_update().filter(label__iexact=label).first()
    if existing is not None:
        if existing.is_active:
            raise ConflictError(f"The lost reason {existing.label!r} already exists.")
        existing.is_active = True
        existing.save(update_fields=["is_active", "updated_at"])
        return existing
    return LostReason.objects.create(label=label)


def lost_reason_set_active(*, reason: LostReason, active: bool) -> LostReason:
    """Deactivate a lost reason (past deals keep it) or bring it back."""
    reason.is_active = bool(active)
    reason.save(update_fields=["is_active", "updated_at"])
    return reason
