"""REST API of campaigns and touches: everyone signed in reads; marketing and admins write."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.accounts.roles import can_manage_campaigns
from leadpact.campaigns.models import Campaign, TouchKind
from leadpact.campaigns.selectors import campaign_get, campaign_list
from leadpact.campaigns.services import (
    INGEST_MAX_ITEMS,
    campaign_create,
    campaign_update,
    touches_ingest,
)
from leadpact.common.api import StrictSerializer
from leadpact.common.errors import ApplicationError, PermissionDeniedError


class CampaignOut(serializers.ModelSerializer):
    sourced_leads_count = serializers.IntegerField(read_only=True)
    touches_count = serializers.IntegerField(read_only=True)
    owner = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "code",
            "channel",
            "owner",
            "cost",
            "currency",
            "start_date",
            "end_date",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "description",
            "is_active",
            "sourced_leads_count",
            "touches_count",
            "created_at",
            "updated_at",
        ]


class CampaignIn(StrictSerializer):
    """Types only; the rules (unique code, dates, cost, currency) live in the service."""

    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    code = serializers.CharField(allow_blank=True)
    channel = serializers.CharField(allow_blank=True)
    cost = serializers.DecimalField(max_digits=None, decimal_places=None, required=False)
    currency = serializers.CharField(allow_blank=True, required=False)
    start_date = serializers.DateField(allow_null=True, required=False)
    end_date = serializers.DateField(allow_null=True, required=False)
    utm_source = serializers.CharField(allow_blank=True, required=False)
    utm_medium = serializers.CharField(allow_blank=True, required=False)
    utm_campaign = serializers.CharField(allow_blank=True, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    is_active = serializers.BooleanField(required=False)


class CampaignPatchIn(CampaignIn):
    name = serializers.CharField(allow_blank=True, required=False)
    code = serializers.CharField(allow_blank=True, required=False)
    channel = serializers.CharField(allow_blank=True, required=False)


def _ensure_manager(request: Request) -> None:
    if not can_manage_campaigns(request.user):
        raise PermissionDeniedError("Only marketing and admins manage campaigns.")


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CampaignListApi(APIView):
    @extend_schema(
        summary="List campaigns with their sourced-lead and touch counts",
        parameters=[OpenApiParameter("q", str, description="name or code contains")],
        responses=CampaignOut(many=True),
        tags=["campaigns"],
    )
    def get(self, request: Request) -> Response:
        q = str(request.query_params.get("q", ""))[:100]
        return Response(CampaignOut(campaign_list(q=q), many=True).data)

    @extend_schema(
        summary="Create a campaign (marketing, admin)",
        request=CampaignIn,
        responses={201: CampaignOut},
        tags=["campaigns"],
    )
    def post(self, request: Request) -> Response:
        _ensure_manager(request)
        campaign = campaign_create(actor=request.user, values=_validated(CampaignIn, request.data))
        body = CampaignOut(campaign_get(campaign_id=campaign.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    def _campaign(self, pk: int) -> Campaign:
        try:
            return campaign_get(campaign_id=pk)
        except Campaign.DoesNotExist:
            raise ApplicationError("No such campaign.", code="not_found", status=404) from None

    @extend_schema(summary="One campaign", responses=CampaignOut, tags=["campaigns"])
    def get(self, request: Request, pk: int) -> Response:
        return Response(CampaignOut(self._campaign(pk)).data)

    @extend_schema(
        summary="Change a campaign (marketing, admin)",
        request=CampaignPatchIn,
        responses=CampaignOut,
        tags=["campaigns"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        _ensure_manager(request)
        campaign = self._campaign(pk)
        campaign_update(
            campaign=campaign, actor=request.user, values=_validated(CampaignPatchIn, request.data)
        )
        return Response(CampaignOut(self._campaign(pk)).data)


class TouchItemIn(StrictSerializer):
    """One touch of a bulk batch (documentation; the service validates every item)."""

    lead_id = serializers.IntegerField(required=False)
    email = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=TouchKind.choices)
    occurred_at = serializers.DateTimeField(required=False)
    channel = serializers.CharField(required=False)
    campaign = serializers.CharField(required=False, help_text="Campaign code")
    utm_source = serializers.CharField(required=False)
    utm_medium = serializers.CharField(required=False)
    utm_campaign = serializers.CharField(required=False)
    utm_term = serializers.CharField(required=False)
    utm_content = serializers.CharField(required=False)
    referrer = serializers.CharField(required=False)
    url = serializers.CharField(required=False)
    idempotency_key = serializers.CharField(max_length=200)
    data = serializers.DictField(required=False)


class TouchBulkIn(StrictSerializer):
    touches = serializers.ListField(child=serializers.JSONField(), max_length=INGEST_MAX_ITEMS)


class TouchBulkDocIn(StrictSerializer):
    touches = TouchItemIn(many=True)


class TouchBulkOut(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    skipped = serializers.IntegerField()


class TouchBulkApi(APIView):
    @extend_schema(
        summary="Record many touches at once (marketing, admin)",
        description=(
            "All or nothing: any bad item rejects the batch with per-index errors. Each touch "
            "needs an idempotency_key; keys already stored (or repeated in the batch) are "
            "skipped, so sending a batch twice adds nothing. Give each touch's lead as lead_id "
            f"or email. At most {INGEST_MAX_ITEMS:,} touches per call."
        ),
        request=TouchBulkDocIn,
        responses={201: TouchBulkOut},
        tags=["touches"],
    )
    def post(self, request: Request) -> Response:
        _ensure_manager(request)
        data = _validated(TouchBulkIn, request.data)
        result = touches_ingest(items=data["touches"], actor=request.user)
        return Response(
            TouchBulkOut(result).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
