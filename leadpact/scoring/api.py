"""REST endpoints of the lead profile: read versions, move one through the pact. Each checks
the role, calls one service and serialises; errors answer the shared 4xx JSON shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.scoring.models import LeadProfile
from leadpact.scoring.roles import can_view_profile
from leadpact.scoring.selectors import profile_get, profile_list, profile_live
from leadpact.scoring.services.profiles import (
    profile_approve,
    profile_go_live,
    profile_propose,
    profile_withdraw,
)


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


def _viewer(request: Request) -> None:
    if not can_view_profile(request.user):
        raise PermissionDeniedError()


def _get(profile_id: int) -> LeadProfile:
    try:
        return profile_get(profile_id=profile_id)
    except LeadProfile.DoesNotExist:
        raise ApplicationError("No such profile version.", code="not_found", status=404) from None


class ProfileListApi(APIView):
    @extend_schema(responses=ProfileOut(many=True))
    def get(self, request: Request) -> Response:
        _viewer(request)
        return Response(ProfileOut(profile_list(), many=True).data)


class ProfileLiveApi(APIView):
    @extend_schema(responses=ProfileOut)
    def get(self, request: Request) -> Response:
        _viewer(request)
        live = profile_live()
        if live is None:
            raise ApplicationError("No profile is live yet.", code="not_found", status=404)
        return Response(ProfileOut(live).data)


ACTIONS: dict[str, Any] = {
    "propose": lambda p, u: profile_propose(profile=p, actor=u),
    "approve": lambda p, u: profile_approve(profile=p, actor=u),
    "withdraw": lambda p, u: profile_withdraw(profile=p, actor=u),
    "live": lambda p, u: profile_go_live(profile=p, actor=u)[0],
}


class ProfileActionApi(APIView):
    @extend_schema(request=None, responses=ProfileOut)
    def post(self, request: Request, profile_id: int, action: str) -> Response:
        _viewer(request)
        if action not in ACTIONS:
            raise ApplicationError(f"Unknown action {action!r}.", code="not_found", status=404)
        profile = ACTIONS[action](_get(profile_id), request.user)
        return Response(ProfileOut(profile).data)
