"""REST endpoints of the hand-off: the rep's offers, accept / reject / qualify, routing rules,
SLA policies, a routing run. Each validates, calls one service and serialises."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.accounts.models import Team, User
from leadpact.common.api import StrictSerializer
from leadpact.common.errors import PermissionDeniedError
from leadpact.leads.models import Lead
from leadpact.leads.services.lifecycle import lead_accept, lead_reject
from leadpact.routing import selectors
from leadpact.routing.models import Offer, RoutingRule, SlaClock, SlaPolicy
from leadpact.routing.roles import can_have_queue, can_manage_routing, can_view_sla
from leadpact.routing.services.pauses import clock_pause, clock_resume
from leadpact.routing.services.policies import policy_create
from leadpact.routing.services.qualification import lead_qualify_checked
from leadpact.routing.services.router import leads_route
from leadpact.routing.services.rules import rule_create


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDeniedError(message)


class OfferOut(serializers.ModelSerializer):
    lead_name = serializers.CharField(source="lead.display_name")
    score = serializers.IntegerField(source="lead.score")

    class Meta:
        model = Offer
        fields = [
            "id",
            "lead",
            "lead_name",
            "score",
            "rep",
            "team",
            "rule_name",
            "explanation",
            "status",
            "offered_at",
            "expires_at",
            "answered_at",
        ]


class LeadStateOut(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ["id", "state", "owner", "version"]


class RejectIn(StrictSerializer):
    reason = serializers.CharField(
        max_length=300, help_text="A configured reason code or label, or free text."
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class QualifyIn(StrictSerializer):
    checked = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OfferListApi(APIView):
    @extend_schema(
        responses=OfferOut(many=True), summary="Leads offered to you, waiting for an answer"
    )
    def get(self, request: Request) -> Response:
        _require(can_have_queue(request.user), "Only salespeople have a lead queue.")
        return Response(OfferOut(selectors.rep_queue(rep=request.user), many=True).data)


class AcceptApi(APIView):
    @extend_schema(request=None, responses=LeadStateOut, summary="Accept an offered lead (SAL)")
    def post(self, request: Request, lead_id: int) -> Response:
        lead = get_object_or_404(Lead, pk=lead_id)
        return Response(LeadStateOut(lead_accept(lead=lead, actor=request.user)).data)


class RejectApi(APIView):
    @extend_schema(request=RejectIn, responses=LeadStateOut, summary="Reject an offered lead")
    def post(self, request: Request, lead_id: int) -> Response:
        data = RejectIn(data=request.data)
        data.is_valid(raise_exception=True)
        lead = get_object_or_404(Lead, pk=lead_id)
        result = lead_reject(lead=lead, actor=request.user, **data.validated_data)
        return Response(LeadStateOut(result).data)


class QualifyApi(APIView):
    @extend_schema(
        request=QualifyIn,
        responses=LeadStateOut,
        summary="Qualify an accepted lead (SQL) with the checklist",
    )
    def post(self, request: Request, lead_id: int) -> Response:
        data = QualifyIn(data=request.data)
        data.is_valid(raise_exception=True)
        lead = get_object_or_404(Lead, pk=lead_id)
        result = lead_qualify_checked(lead=lead, actor=request.user, **data.validated_data)
        return Response(LeadStateOut(result).data)


class RuleOut(serializers.ModelSerializer):
    class Meta:
        model = RoutingRule
        fields = ["id", "name", "position", "is_active", "conditions", "team", "rep"]


@extend_schema_serializer(component_name="RoutingRuleIn")  # scoring has a RuleIn too
class RuleIn(StrictSerializer):
    name = serializers.CharField(max_length=120)
    conditions = serializers.JSONField(default=list)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    rep = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    is_active = serializers.BooleanField(default=True)


class RuleListApi(APIView):
    @extend_schema(
        responses=RuleOut(many=True), summary="Routing rules, in the order they are tried"
    )
    def get(self, request: Request) -> Response:
        _require(
            can_manage_routing(request.user), "Only admins and sales managers see routing rules."
        )
        return Response(RuleOut(selectors.rule_list(), many=True).data)

    @extend_schema(request=RuleIn, responses={201: RuleOut}, summary="Add a routing rule")
    def post(self, request: Request) -> Response:
        data = RuleIn(data=request.data)
        data.is_valid(raise_exception=True)
        rule = rule_create(actor=request.user, **data.validated_data)
        return Response(RuleOut(rule).data, status=status.HTTP_201_CREATED)


class RunOut(serializers.Serializer):
    offered = serializers.IntegerField()
    fallback = serializers.IntegerField()


class RouteRunApi(APIView):
    @extend_schema(request=None, responses=RunOut, summary="Route every waiting MQL now")
    def post(self, request: Request) -> Response:
        _require(can_manage_routing(request.user), "Only admins and sales managers run routing.")
        return Response(leads_route(actor=request.user).as_dict())


class PolicyOut(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "kind",
            "team",
            "calendar",
            "amount",
            "warn_before_minutes",
            "escalation",
            "is_active",
        ]


class PolicyIn(StrictSerializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=SlaPolicy.Kind.choices)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    amount = serializers.IntegerField(min_value=1, max_value=10_000)
    warn_before_minutes = serializers.IntegerField(min_value=0, default=60)
    escalation = serializers.ChoiceField(
        choices=SlaPolicy.Escalation.choices, default=SlaPolicy.Escalation.NOTIFY_MANAGER
    )
    is_active = serializers.BooleanField(default=True)


class PolicyListApi(APIView):
    @extend_schema(responses=PolicyOut(many=True), summary="SLA policies")
    def get(self, request: Request) -> Response:
        _require(can_view_sla(request.user), "Sales reps see their deadlines in their queue.")
        return Response(PolicyOut(selectors.policy_list(), many=True).data)

    @extend_schema(request=PolicyIn, responses={201: PolicyOut}, summary="Add an SLA policy")
    def post(self, request: Request) -> Response:
        data = PolicyIn(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        policy = policy_create(actor=request.user, **values)
        return Response(PolicyOut(policy).data, status=status.HTTP_201_CREATED)


class ClockOut(serializers.ModelSerializer):
    remaining_hours = serializers.SerializerMethodField()

    class Meta:
        model = SlaClock
        fields = [
            "id",
            "policy",
            "lead",
            "offer",
            "rep",
            "status",
            "started_at",
            "deadline_at",
            "warn_at",
            "paused_at",
            "pause_reason",
            "remaining_hours",
        ]

    def get_remaining_hours(self, clock: SlaClock) -> float | None:
        if clock.remaining is None:
            return None
        return round(clock.remaining.total_seconds() / 3600, 4)


class PauseIn(StrictSerializer):
    reason = serializers.CharField(
        max_length=300, help_text="Why the clock stops, e.g. waiting on the prospect."
    )


class ClockPauseApi(APIView):
    @extend_schema(request=PauseIn, responses=ClockOut, summary="Pause an SLA clock")
    def post(self, request: Request, pk: int) -> Response:
        data = PauseIn(data=request.data)
        data.is_valid(raise_exception=True)
        clock = get_object_or_404(SlaClock, pk=pk)
        paused = clock_pause(clock=clock, actor=request.user, reason=data.validated_data["reason"])
        return Response(ClockOut(paused).data)


class ClockResumeApi(APIView):
    @extend_schema(
        request=None, responses=ClockOut, summary="Resume a paused SLA clock (new deadline)"
    )
    def post(self, request: Request, pk: int) -> Response:
        clock = get_object_or_404(SlaClock, pk=pk)
        return Response(ClockOut(clock_resume(clock=clock, actor=request.user)).data)
