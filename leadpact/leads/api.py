"""REST API of leads. Thin: validate types, call one selector or service, serialize.

Everyone signed in may read leads (the common lead view); what they may change is decided by
``leads/policies.py`` inside the services.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.accounts.models import User
from leadpact.campaigns.models import TouchKind
from leadpact.campaigns.touch_input import clean_touch_input
from leadpact.common.api import StrictSerializer
from leadpact.common.errors import ApplicationError
from leadpact.common.numbers import is_whole_number
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.records import IDENTITY_FIELDS, PROFILE_FIELDS, SOURCE_FIELDS, clean_lead_input
from leadpact.leads.selectors import (
    FILTER_PARAMS,
    PAGE_SIZE_MAX,
    SORTS,
    lead_filters_from_params,
    lead_get,
    lead_page,
    lead_timeline,
)
from leadpact.leads.services.capture import lead_capture
from leadpact.leads.services.notes import NOTE_MAX, lead_note_add
from leadpact.leads.services.profile import EDITABLE_FIELDS, lead_update
from leadpact.leads.services.transitions import TRANSITIONS, lead_transition

# --- serializers ---------------------------------------------------------------------------


class Text(serializers.CharField):
    """A JSON string and nothing else: ``123`` or ``true`` is a wrong type, not text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _text(**kwargs: Any) -> Text:
    return Text(required=False, allow_blank=True, trim_whitespace=False, **kwargs)


class UserRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class CampaignRef(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class LeadOut(serializers.ModelSerializer):
    owner = UserRef(read_only=True, allow_null=True)
    source_campaign = CampaignRef(read_only=True, allow_null=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "company_name",
            "country",
            "city",
            "source_channel",
            "source_campaign",
            "source_detail",
            "external_source",
            "external_id",
            "captured_at",
            "state",
            "state_changed_at",
            "owner",
            "score",
            "attributes",
            "merged_into",
            "version",
            "created_at",
            "updated_at",
        ]


class LeadPageOut(serializers.Serializer):
    results = LeadOut(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    previous_cursor = serializers.CharField(allow_null=True)
    total = serializers.IntegerField()
    total_is_estimate = serializers.BooleanField(help_text="true: there are more than `total`")


class TouchIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=TouchKind.choices)
    occurred_at = _text(help_text="ISO 8601")
    channel = _text()
    campaign = _text(help_text="Campaign code")
    utm_source = _text()
    utm_medium = _text()
    utm_campaign = _text()
    utm_term = _text()
    utm_content = _text()
    referrer = _text()
    url = _text()
    idempotency_key = _text(help_text="Makes a retry safe")
    data = serializers.DictField(required=False)


class LeadCreateIn(StrictSerializer):
    """Types only; lengths, e-mail, phone and the rest are checked by ``clean_lead_input``."""

    first_name = _text()
    last_name = _text()
    email = _text()
    phone = _text()
    title = _text()
    company_name = _text()
    country = _text()
    city = _text()
    external_source = _text()
    external_id = _text()
    source_channel = _text()
    source_detail = _text()
    campaign = _text(help_text="Campaign code (utm_campaign)")
    captured_at = _text(help_text="First contact, ISO 8601")
    attributes = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )
    touch = TouchIn(required=False)


class LeadCreatedOut(LeadOut):
    merged = serializers.BooleanField()
    changed_fields = serializers.ListField(child=serializers.CharField())

    class Meta(LeadOut.Meta):
        fields = [*LeadOut.Meta.fields, "merged", "changed_fields"]


class LeadPatchIn(StrictSerializer):
    first_name = _text()
    last_name = _text()
    email = _text()
    phone = _text()
    title = _text()
    company_name = _text()
    country = _text()
    city = _text()
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you edited; 409 if it moved on"
    )


assert set(LeadPatchIn._declared_fields) == {*EDITABLE_FIELDS, "version"}
assert set(LeadCreateIn._declared_fields) >= {*PROFILE_FIELDS, *IDENTITY_FIELDS, *SOURCE_FIELDS}


class TimelineEventOut(serializers.ModelSerializer):
    actor = UserRef(read_only=True, allow_null=True)

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "occurred_at", "actor", "summary", "body", "data", "touch"]


class NoteIn(StrictSerializer):
    body = Text(max_length=NOTE_MAX)


class TransitionIn(StrictSerializer):
    action = serializers.ChoiceField(choices=list(TRANSITIONS))
    reason = Text(required=False, allow_blank=True, max_length=200)
    note = Text(required=False, allow_blank=True, max_length=NOTE_MAX)
    rep = serializers.IntegerField(required=False, allow_null=True, help_text="A user id")


def _transition_inputs(action: str, data: dict[str, Any]) -> dict[str, Any]:
    """The inputs of ``action`` from the request: refuses parameters it does not take."""
    spec = TRANSITIONS[action]
    extra = sorted(name for name in data if name != "action" and name not in spec.inputs)
    if extra:
        raise ApplicationError(
            f"“{action}” does not take {', '.join(extra)}.",
            extra={"fields": {name: f"not used by {action}" for name in extra}},
        )
    if action == "assign" and "rep" not in data:
        raise ApplicationError(
            "Say whom to assign the lead to (rep), or send rep: null to unassign it.",
            extra={"fields": {"rep": "is required"}},
        )
    inputs = {name: data[name] for name in ("reason", "note") if name in data}
    if "rep" in spec.inputs:
        inputs["rep"] = _rep(data.get("rep"), required=action == "offer")
    return inputs


def _rep(rep_id: int | None, *, required: bool) -> User | None:
    if rep_id is None:
        if required:
            raise ApplicationError(
                "Say whom to offer the lead to (rep).", extra={"fields": {"rep": "is required"}}
            )
        return None
    rep = User.objects.filter(pk=rep_id).first()
    if rep is None:
        raise ApplicationError(
            f"No user with id {rep_id}.", extra={"fields": {"rep": "no such user"}}
        )
    return rep


# --- views ---------------------------------------------------------------------------------


def _lead(pk: int) -> Lead:
    try:
        return lead_get(lead_id=pk)
    except Lead.DoesNotExist:
        raise ApplicationError("No such lead.", code="not_found", status=404) from None


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApplicationError("Send a JSON object.")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _field_errors(errors: list[Any]) -> ApplicationError:
    fields = {e.field: e.message for e in errors}
    listed = "; ".join(f"{name} {message}" for name, message in fields.items())
    return ApplicationError(f"The lead is not valid: {listed}.", extra={"fields": fields})


_LIST_PARAMS = [
    OpenApiParameter("q", str, description="Name, e-mail or company starts with"),
    OpenApiParameter("state", str, enum=LeadState.values),
    OpenApiParameter("owner", str, description="A user id, `mine` or `unassigned`"),
    OpenApiParameter("channel", str),
    OpenApiParameter("campaign", int, description="Source campaign id"),
    OpenApiParameter("captured_from", str, description="YYYY-MM-DD, inclusive"),
    OpenApiParameter("captured_to", str, description="YYYY-MM-DD, inclusive"),
    OpenApiParameter("sort", str, enum=list(SORTS)),
    OpenApiParameter("cursor", str, description="next_cursor or previous_cursor of a page"),
    OpenApiParameter("size", int, description=f"Rows per page, at most {PAGE_SIZE_MAX}"),
]
assert {p.name for p in _LIST_PARAMS} >= set(FILTER_PARAMS)


class LeadListApi(APIView):
    @extend_schema(
        summary="List leads (filtered, cursor-paged)",
        operation_id="api_leads_list",
        parameters=_LIST_PARAMS,
        responses=LeadPageOut,
        tags=["leads"],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        filters = lead_filters_from_params(params, user=request.user)
        size_text = str(params.get("size", "50")).strip() or "50"
        if not is_whole_number(size_text) or not 1 <= int(size_text) <= PAGE_SIZE_MAX:
            raise ApplicationError(
                f"size must be a whole number from 1 to {PAGE_SIZE_MAX}.",
                extra={"fields": {"size": "out of range"}},
            )
        page = lead_page(filters=filters, cursor=params.get("cursor") or None, size=int(size_text))
        return Response(
            {
                "results": LeadOut(page.items, many=True).data,
                "next_cursor": page.next_cursor,
                "previous_cursor": page.previous_cursor,
                "total": page.total,
                "total_is_estimate": page.total_is_estimate,
            }
        )

    @extend_schema(
        summary="Capture a lead: create it, or merge into the person already known",
        description=(
            "The person is matched by e-mail, else by (external_source, external_id). "
            "201 when a lead was created; 200 with merged=true when the values were merged "
            "into an existing lead. An optional touch records how they arrived."
        ),
        request=LeadCreateIn,
        responses={201: LeadCreatedOut, 200: LeadCreatedOut},
        tags=["leads"],
    )
    def post(self, request: Request) -> Response:
        data = _validated(LeadCreateIn, request.data)
        touch_data = data.pop("touch", None)
        record, errors = clean_lead_input(data)
        if record is None:
            raise _field_errors(errors)
        touch = None
        if touch_data is not None:
            touch, touch_errors = clean_touch_input(touch_data)
            if touch is None:
                fields = {f"touch.{k}": v for k, v in touch_errors.items()}
                raise ApplicationError("The touch is not valid.", extra={"fields": fields})
        result = lead_capture(record=record, actor=request.user, via="api", touch=touch)
        body = LeadOut(_lead(result.lead.pk)).data | {
            "merged": not result.created,
            "changed_fields": result.changed_fields,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


class LeadDetailApi(APIView):
    @extend_schema(summary="One lead", responses=LeadOut, tags=["leads"])
    def get(self, request: Request, pk: int) -> Response:
        return Response(LeadOut(_lead(pk)).data)

    @extend_schema(
        summary="Edit a lead's profile",
        description="Send only the fields you change; an empty string clears one. Include "
        "`version` to be told (409) when someone changed the lead since you loaded it.",
        request=LeadPatchIn,
        responses=LeadOut,
        tags=["leads"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        lead = _lead(pk)
        data = _validated(LeadPatchIn, request.data)
        version = data.pop("version", None)
        lead_update(lead=lead, actor=request.user, values=data, expected_version=version)
        return Response(LeadOut(_lead(pk)).data)


class LeadTimelineApi(APIView):
    @extend_schema(
        summary="A lead's timeline, newest first",
        parameters=[OpenApiParameter("limit", int, description="At most 500")],
        responses=TimelineEventOut(many=True),
        tags=["leads"],
    )
    def get(self, request: Request, pk: int) -> Response:
        lead = _lead(pk)
        limit_text = str(request.query_params.get("limit", "200"))
        if not is_whole_number(limit_text) or not 1 <= int(limit_text) <= 500:
            raise ApplicationError("limit must be a whole number from 1 to 500.")
        events = lead_timeline(lead=lead, limit=int(limit_text))
        return Response(TimelineEventOut(events, many=True).data)


class LeadNoteApi(APIView):
    @extend_schema(
        summary="Add a note to a lead's timeline",
        request=NoteIn,
        responses={201: TimelineEventOut},
        tags=["leads"],
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = _lead(pk)
        data = _validated(NoteIn, request.data)
        event = lead_note_add(lead=lead, actor=request.user, body=data["body"])
        return Response(TimelineEventOut(event).data, status=status.HTTP_201_CREATED)


class LeadTransitionApi(APIView):
    @extend_schema(
        summary="Move a lead along its lifecycle",
        description=(
            "action: " + ", ".join(TRANSITIONS) + ". `reason` is required to reject, lose, "
            "recycle and disqualify; `rep` (a user id) to offer; `rep` null with assign "
            "unassigns. Illegal moves answer 409, moves you may not make 403."
        ),
        request=TransitionIn,
        responses={
            200: inline_serializer(
                "TransitionOut", {"lead": LeadOut(), "action": serializers.CharField()}
            )
        },
        tags=["leads"],
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = _lead(pk)
        data = _validated(TransitionIn, request.data)
        action = data["action"]
        lead_transition(
            lead=lead, actor=request.user, action=action, **_transition_inputs(action, data)
        )
        return Response({"action": action, "lead": LeadOut(_lead(pk)).data})
