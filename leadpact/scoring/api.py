"""REST endpoints of the lead profile: read versions, start a draft, edit it, move it through
the pact (propose, approve, reject, withdraw, go live or schedule), fit one from the system's
own history. Each checks the role, validates its input, calls the same service as the pages
and serialises; errors answer the shared 4xx JSON shape (400 bad input, 403 wrong role, 404
unknown version, 409 wrong state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.common.api import StrictSerializer
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.scoring.models import FitRun, LeadProfile, ProfileEvent
from leadpact.scoring.roles import (
    can_approve_profile,
    can_edit_profile,
    can_put_live,
    can_view_profile,
)
from leadpact.scoring.selectors import (
    profile_diff,
    profile_events,
    profile_get,
    profile_list,
    profile_live,
)
from leadpact.scoring.services.fit_runs import fit_run_start_history
from leadpact.scoring.services.profiles import (
    profile_approve,
    profile_copy_to_draft,
    profile_go_live,
    profile_propose,
    profile_reject,
    profile_update_draft,
    profile_withdraw,
)

# --- output --------------------------------------------------------------------------------


class ProfileOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None)

    class Meta:
        model = LeadProfile
        fields = [
            "id",
            "version",
            "name",
            "status",
            "author",
            "threshold",
            "scorecard",
            "engagement_rules",
            "effective_from",
            "effective_to",
            "source",
        ]


class EventOut(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = ProfileEvent
        fields = ["action", "actor", "actor_role", "data", "occurred_at"]


class ProfileDetailOut(ProfileOut):
    """One version with its validation report, audit trail and the diff from its base."""

    based_on = serializers.IntegerField(source="based_on.version", default=None)
    report = serializers.JSONField()
    events = serializers.SerializerMethodField()
    diff = serializers.SerializerMethodField()

    class Meta(ProfileOut.Meta):
        fields = [*ProfileOut.Meta.fields, "based_on", "report", "events", "diff"]

    @extend_schema_field(EventOut(many=True))
    def get_events(self, profile: LeadProfile) -> Any:
        return EventOut(profile_events(profile=profile), many=True).data

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_diff(self, profile: LeadProfile) -> dict[str, Any] | None:
        return profile_diff(profile.based_on, profile) if profile.based_on_id else None


class FitRunOut(serializers.ModelSerializer):
    """A fit in the background: queued, running, done (``profile``: the new draft's id) or
    failed (``error``: why)."""

    actor = serializers.CharField(source="actor.username", default=None)
    profile_version = serializers.IntegerField(source="profile.version", default=None)

    class Meta:
        model = FitRun
        fields = [
            "id",
            "source",
            "status",
            "actor",
            "options",
            "profile",
            "profile_version",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


# --- input ---------------------------------------------------------------------------------


class DraftCreateIn(StrictSerializer):
    copy_of = serializers.IntegerField(
        required=False, help_text="Version id to copy; default: the live version."
    )


class PointEditIn(StrictSerializer):
    attribute = serializers.CharField()
    bin = serializers.IntegerField(min_value=0, help_text="Index of the bin in the attribute.")
    points = serializers.IntegerField()


class RuleIn(StrictSerializer):
    kind = serializers.CharField(help_text="A touch kind (form_fill, email_click, …).")
    points = serializers.FloatField()
    half_life_days = serializers.FloatField(default=30)
    cap = serializers.FloatField(allow_null=True, required=False, default=None)
    period_days = serializers.FloatField(default=30)


class DraftEditIn(StrictSerializer):
    threshold = serializers.IntegerField(required=False)
    points = PointEditIn(many=True, required=False)
    engagement_rules = RuleIn(
        many=True, required=False, help_text="The whole table: kinds left out are removed."
    )


class ActionIn(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    effective_from = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Going live: a future moment schedules it."
    )


class FitIn(StrictSerializer):
    exclude = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    max_attributes = serializers.IntegerField(min_value=1, max_value=50, default=12)
    folds = serializers.IntegerField(min_value=2, max_value=20, default=5)


# --- views ---------------------------------------------------------------------------------


def _viewer(request: Request) -> None:
    if not can_view_profile(request.user):
        raise PermissionDeniedError()


def _may(allowed: bool, message: str) -> None:
    """The role check comes before input validation: a wrong role hears 403, not 400."""
    if not allowed:
        raise PermissionDeniedError(message)


EDIT_ONLY = "Only marketing or an admin may write a lead profile."


def _get(profile_id: int) -> LeadProfile:
    try:
        return profile_get(profile_id=profile_id)
    except LeadProfile.DoesNotExist:
        raise ApplicationError("No such profile version.", code="not_found", status=404) from None


def _detail(profile: LeadProfile, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(ProfileDetailOut(_get(profile.pk)).data, status=code)


class ProfileListApi(APIView):
    @extend_schema(responses=ProfileOut(many=True), summary="Every profile version")
    def get(self, request: Request) -> Response:
        _viewer(request)
        return Response(ProfileOut(profile_list(), many=True).data)

    @extend_schema(
        request=DraftCreateIn,
        responses={201: ProfileDetailOut},
        summary="Start a draft: a copy of the live version (or of ``copy_of``)",
    )
    def post(self, request: Request) -> Response:
        _viewer(request)
        _may(can_edit_profile(request.user), EDIT_ONLY)
        data = DraftCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        copy_of = data.validated_data.get("copy_of")
        source = _get(copy_of) if copy_of is not None else profile_live()
        if source is None:
            raise ApplicationError(
                "No profile is live to copy: fit a draft from history, or name copy_of."
            )
        return _detail(profile_copy_to_draft(profile=source, actor=request.user), code=201)


class ProfileLiveApi(APIView):
    @extend_schema(responses=ProfileOut, summary="The live version")
    def get(self, request: Request) -> Response:
        _viewer(request)
        live = profile_live()
        if live is None:
            raise ApplicationError("No profile is live yet.", code="not_found", status=404)
        return Response(ProfileOut(live).data)


class ProfileDetailApi(APIView):
    @extend_schema(responses=ProfileDetailOut, summary="One version, its report and audit trail")
    def get(self, request: Request, profile_id: int) -> Response:
        _viewer(request)
        return _detail(_get(profile_id))

    @extend_schema(
        request=DraftEditIn,
        responses=ProfileDetailOut,
        summary="Edit a draft's points, threshold or engagement rules",
    )
    def patch(self, request: Request, profile_id: int) -> Response:
        _viewer(request)
        _may(can_edit_profile(request.user), EDIT_ONLY)
        profile = _get(profile_id)
        data = DraftEditIn(data=request.data)
        data.is_valid(raise_exception=True)
        edit = data.validated_data
        points = {(p["attribute"], p["bin"]): p["points"] for p in edit.get("points", [])}
        rules = edit.get("engagement_rules")
        updated = profile_update_draft(
            profile=profile,
            actor=request.user,
            points=points,
            threshold=edit.get("threshold"),
            engagement_rules=[dict(r) for r in rules] if rules is not None else None,
        )
        return _detail(updated)


def _go_live(profile: LeadProfile, user: Any, data: dict[str, Any]) -> LeadProfile:
    return profile_go_live(profile=profile, actor=user, effective_from=data.get("effective_from"))[
        0
    ]


ALLOWED: dict[str, Callable[[Any], bool]] = {
    "propose": can_edit_profile,
    "copy": can_edit_profile,
    "approve": can_approve_profile,
    "reject": can_approve_profile,
    "withdraw": lambda u: can_edit_profile(u) or can_approve_profile(u),
    "live": can_put_live,
}
ACTIONS: dict[str, Callable[[LeadProfile, Any, dict[str, Any]], LeadProfile]] = {
    "propose": lambda p, u, d: profile_propose(profile=p, actor=u),
    "approve": lambda p, u, d: profile_approve(profile=p, actor=u),
    "reject": lambda p, u, d: profile_reject(profile=p, actor=u, reason=d.get("reason", "")),
    "withdraw": lambda p, u, d: profile_withdraw(profile=p, actor=u, reason=d.get("reason", "")),
    "live": _go_live,
    "copy": lambda p, u, d: profile_copy_to_draft(profile=p, actor=u),
}


class ProfileActionApi(APIView):
    @extend_schema(
        request=ActionIn,
        responses=ProfileDetailOut,
        summary="propose, approve, reject (reason), withdraw, live (effective_from) or copy",
    )
    def post(self, request: Request, profile_id: int, action: str) -> Response:
        _viewer(request)
        if action not in ACTIONS:
            raise ApplicationError(f"Unknown action {action!r}.", code="not_found", status=404)
        _may(ALLOWED[action](request.user), f"Your role may not {action} a lead profile.")
        data = ActionIn(data=request.data)
        data.is_valid(raise_exception=True)
        profile = ACTIONS[action](_get(profile_id), request.user, data.validated_data)
        return _detail(profile)


class ProfileFitApi(APIView):
    @extend_schema(
        request=FitIn,
        responses={202: FitRunOut},
        summary="Fit a draft from the system's own closed leads (won vs lost), in the background",
        description="Answers 202 with the queued fit; follow its Location "
        "(/api/profile/fits/{run_id}/) until it is done or failed.",
    )
    def post(self, request: Request) -> Response:
        _viewer(request)
        _may(can_edit_profile(request.user), "Only marketing or an admin may fit a lead profile.")
        data = FitIn(data=request.data)
        data.is_valid(raise_exception=True)
        run = fit_run_start_history(actor=request.user, options=dict(data.validated_data))
        location = reverse("api:profile-fit-run", args=[run.pk])
        return Response(
            FitRunOut(run).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location}
        )


class FitRunApi(APIView):
    @extend_schema(responses=FitRunOut, summary="One background fit and how it went")
    def get(self, request: Request, run_id: int) -> Response:
        _viewer(request)
        run = FitRun.objects.select_related("actor", "profile").filter(pk=run_id).first()
        if run is None:
            raise ApplicationError(f"No fit {run_id}.", code="not_found", status=404)
        return Response(FitRunOut(run).data)
