"""Sales-process settings: pipelines and their stages (name, order, default probability, exit
criteria, won/lost kinds), the learned probabilities beside the configured ones, and the lost
reasons. Sales managers and admins only; every change goes through services/pipelines.py and a
refusal is a message on the page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.common.numbers import parse_whole_number
from leadpact.pipeline.models import Deal, LostReason, Pipeline, Stage
from leadpact.pipeline.policies import can_configure
from leadpact.pipeline.services import pipelines as process
from leadpact.pipeline.services.forecast.learning import stage_rates
from leadpact.pipeline.views.access import pipeline_user

PROCESS = "pipeline:process"


def _configurer(request: HttpRequest) -> User:
    user = pipeline_user(request)
    if not can_configure(user):
        raise PermissionDenied("Only sales managers and admins set up the sales process.")
    return user


def _criteria(raw: str | None) -> list[str]:
    return [line.strip() for line in (raw or "").splitlines() if line.strip()]


def _stage_lines(raw: str | None) -> list[process.StageInput]:
    """``Name | probability | kind | criterion; criterion`` per line (kind and criteria
    optional), as typed in the new-pipeline form."""
    stages = []
    for number, line in enumerate((raw or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2:
            raise ApplicationError(
                f"Line {number}: write the stage as 'Name | probability' "
                "(optionally '| open/won/lost | criterion; criterion')."
            )
        kind = (parts[2] if len(parts) > 2 and parts[2] else Stage.Kind.OPEN).lower()
        criteria = [c for c in (parts[3] if len(parts) > 3 else "").split(";") if c.strip()]
        probability = parse_whole_number(parts[1], f"Line {number}: probability")
        stages.append(process.StageInput(parts[0], probability or 0, kind, tuple(criteria)))
    return stages


@login_required
def settings(request: HttpRequest) -> HttpResponse:
    _configurer(request)
    pipelines = list(Pipeline.objects.all())
    per_stage = {
        row["stage_id"]: row["n"]
        for row in Deal.objects.values("stage_id").annotate(n=Count("id")).order_by()
    }
    rows = []
    for pipeline in pipelines:
        rates = stage_rates(pipeline=pipeline)
        rows.append(
            {
                "pipeline": pipeline,
                "rates": rates,
                "stages": [(r, per_stage.get(r.stage.pk, 0)) for r in rates],
                "has_won": any(r.stage.kind == Stage.Kind.WON for r in rates),
            }
        )
    return render(
        request,
        "pipeline/process.html",
        {
            "rows": rows,
            "lost_reasons": list(LostReason.objects.order_by("-is_active", "label")),
            "kinds": Stage.Kind.choices,
        },
    )


@login_required
@require_POST
@form_post(PROCESS)
def pipeline_new(request: HttpRequest) -> str:
    _configurer(request)
    pipeline = process.pipeline_create(
        name=request.POST.get("name", ""),
        stages=_stage_lines(request.POST.get("stages")),
        is_default=request.POST.get("is_default") == "on",
    )
    return f"Pipeline {pipeline.name} created."


@login_required
@require_POST
@form_post(PROCESS)
def pipeline_edit(request: HttpRequest, pipeline_id: int) -> str:
    _configurer(request)
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    updated = process.pipeline_update(
        pipeline=pipeline,
        name=request.POST.get("name"),
        is_default=True if request.POST.get("is_default") == "on" else None,
    )
    return f"Pipeline {updated.name} saved."


@login_required
@require_POST
@form_post(PROCESS)
def stage_new(request: HttpRequest, pipeline_id: int) -> str:
    _configurer(request)
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    post = request.POST
    stage = process.stage_add(
        pipeline=pipeline,
        stage=process.StageInput(
            name=post.get("name", ""),
            probability=parse_whole_number(post.get("probability"), "Probability") or 0,
            kind=post.get("kind") or Stage.Kind.OPEN,
            exit_criteria=tuple(_criteria(post.get("exit_criteria"))),
        ),
        position=parse_whole_number(post.get("position"), "Position", required=False),
    )
    return f"Stage {stage.name} added to {pipeline.name}."


@login_required
@require_POST
@form_post(PROCESS)
def stage_edit(request: HttpRequest, stage_id: int) -> str:
    _configurer(request)
    stage = get_object_or_404(Stage, pk=stage_id)
    post = request.POST
    changes: dict[str, object] = {}
    if "name" in post:
        changes["name"] = post["name"]
    if "probability" in post:
        changes["probability"] = parse_whole_number(post["probability"], "Probability")
    if post.get("kind"):
        changes["kind"] = post["kind"]
    if "exit_criteria" in post:
        changes["exit_criteria"] = _criteria(post["exit_criteria"])
    process.stage_update(stage=stage, **changes)
    return f"Stage {stage.name} saved."


@login_required
@require_POST
@form_post(PROCESS)
def stage_shift(request: HttpRequest, stage_id: int) -> str:
    _configurer(request)
    stage = get_object_or_404(Stage, pk=stage_id)
    by = -1 if request.POST.get("direction") == "up" else 1
    process.stage_shift(stage=stage, by=by)
    return f"Stage {stage.name} moved {'up' if by < 0 else 'down'}."


@login_required
@require_POST
@form_post(PROCESS)
def stage_remove(request: HttpRequest, stage_id: int) -> str:
    user = _configurer(request)
    stage = get_object_or_404(Stage, pk=stage_id)
    target_id = parse_whole_number(request.POST.get("move_to"), "Move to", required=False)
    target = Stage.objects.filter(pk=target_id).first() if target_id else None
    if target_id and target is None:
        raise ApplicationError("No such stage to move the deals to.")
    moved = process.stage_delete(stage=stage, move_to=target, actor=user)
    suffix = f"; {moved} deal(s) moved to {target.name}" if moved and target else ""
    return f"Stage {stage.name} deleted{suffix}."


@login_required
@require_POST
@form_post(PROCESS)
def lost_reason_new(request: HttpRequest) -> str:
    _configurer(request)
    reason = process.lost_reason_create(label=request.POST.get("label", ""))
    return f"Lost reason {reason.label} added."


@login_required
@require_POST
@form_post(PROCESS)
def lost_reason_toggle(request: HttpRequest, reason_id: int) -> str:
    _configurer(request)
    reason = get_object_or_404(LostReason, pk=reason_id)
    reason = process.lost_reason_set_active(reason=reason, active=request.POST.get("active") == "1")
    state = "active" if reason.is_active else "deactivated"
    return f"Lost reason {reason.label} {state}."
