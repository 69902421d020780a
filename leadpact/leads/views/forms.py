"""Web forms: the public capture endpoint ``/f/<key>`` and the page where marketing sets them up."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from leadpact.accounts.roles import can_manage_campaigns
from leadpact.campaigns.channels import KNOWN_CHANNELS
from leadpact.campaigns.models import Campaign
from leadpact.campaigns.selectors import campaign_choices
from leadpact.common.errors import ApplicationError
from leadpact.common.numbers import is_whole_number
from leadpact.leads.models import WebForm
from leadpact.leads.services.webforms import web_form_create, web_form_submit, web_form_update

_FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class FormCaptureThrottle(ScopedRateThrottle):
    """Per-client rate limit of the public endpoint (scope ``form_capture`` in settings)."""


class WebFormCaptureApi(APIView):
    """The public endpoint a website's form posts to. No session, no CSRF: it is cross-site by
    design; the honeypot and the rate limit keep bots out."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [FormCaptureThrottle]
    throttle_scope = "form_capture"
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Submit a public web form",
        description=(
            "Form-encoded or JSON. Fields: email, first_name, last_name, company, phone, title, "
            "country, city, utm_source/medium/campaign/term/content, referrer, page_url, "
            "submission_id (makes a retry safe); any other field is kept on the lead. "
            "A plain HTML post is redirected (303) to the form's redirect URL when it has one."
        ),
        request=OpenApiTypes.OBJECT,
        responses={
            201: OpenApiResponse(description='{"ok": true}'),
            303: OpenApiResponse(description="Redirect to the form's thank-you page"),
            400: OpenApiResponse(description="A field is not valid; the error names it"),
            404: OpenApiResponse(description="No such form"),
            429: OpenApiResponse(description="Too many submissions from this client"),
        },
        auth=[],
        tags=["forms"],
    )
    def post(self, request: Request, key: str) -> HttpResponse:
        form = WebForm.objects.select_related("campaign").filter(key=key, is_active=True).first()
        if form is None:
            raise ApplicationError("No such form.", code="not_found", status=404)
        data = request.data
        if isinstance(data, QueryDict):
            fields: dict[str, Any] = {
                name: ", ".join(str(v) for v in data.getlist(name)) for name in data
            }
        elif isinstance(data, dict):
            fields = data
        else:
            raise ApplicationError("Send the form's fields as an object.")
        web_form_submit(
            form=form, fields=fields, referrer_header=request.headers.get("Referer", "")
        )
        html_post = request.content_type.startswith(_FORM_CONTENT_TYPES) and (
            "application/json" not in request.headers.get("Accept", "")
        )
        if html_post and form.redirect_url:
            response = HttpResponseRedirect(form.redirect_url)
            response.status_code = 303
            return response
        return Response({"ok": True}, status=201)


# --- the management page -------------------------------------------------------------------


def embed_snippet(form: WebForm, action_url: str) -> str:
    """The HTML a marketer pastes into a website: fields, a hidden honeypot, UTM pass-through."""
    return f"""<form method="post" action="{action_url}">
  <input type="email" name="email" placeholder="Work e-mail" required>
  <input name="first_name" placeholder="First name">
  <input name="last_name" placeholder="Last name">
  <input name="company" placeholder="Company">
  <!-- leave empty: bots fill it in, people never see it -->
  <input name="{form.honeypot_field}" tabindex="-1" autocomplete="off" aria-hidden="true"
         style="position:absolute;left:-9999px">
  <button type="submit">Send</button>
</form>
<script>
  (function (form) {{
    var params = new URLSearchParams(location.search);
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"].forEach(function (n) {{
      if (params.get(n)) add(n, params.get(n));
    }});
    add("page_url", location.href); add("referrer", document.referrer);
    add("submission_id", (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()));
    function add(name, value) {{
      var input = document.createElement("input");
      input.type = "hidden"; input.name = name; input.value = value; form.appendChild(input);
    }}
  }})(document.currentScript.previousElementSibling);
</script>"""


def _ensure_manager(request: HttpRequest) -> None:
    if not can_manage_campaigns(request.user):
        raise PermissionDenied("Only marketing and admins set up web forms.")


@login_required
def web_form_list(request: HttpRequest) -> HttpResponse:
    _ensure_manager(request)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", ""),
            "channel": request.POST.get("channel", ""),
            "redirect_url": request.POST.get("redirect_url", ""),
            "campaign": None,
        }
        campaign_id = request.POST.get("campaign", "").strip()
        if campaign_id:
            campaign = (
                Campaign.objects.filter(pk=campaign_id).first()
                if is_whole_number(campaign_id)
                else None
            )
            if campaign is None:
                errors["campaign"] = "is not a campaign"
            values["campaign"] = campaign
        if not errors:
            try:
                form = web_form_create(actor=request.user, values=values)
            except ApplicationError as exc:
                errors = exc.extra.get("fields", {}) or {"form": exc.message}
            else:
                messages.success(request, f"Form “{form.name}” created; paste its snippet below.")
                return redirect("campaigns:forms")
    forms = list(WebForm.objects.select_related("campaign").order_by("-created_at"))
    for form in forms:
        form.snippet = embed_snippet(form, request.build_absolute_uri(f"/f/{form.key}"))
    return render(
        request,
        "leads/forms/list.html",
        {
            "forms": forms,
            "values": values,
            "errors": errors,
            "campaigns": campaign_choices(),
            "channels": KNOWN_CHANNELS,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def web_form_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    form = get_object_or_404(WebForm, pk=pk)
    web_form_update(form=form, actor=request.user, values={"is_active": not form.is_active})
    state = "reopened" if form.is_active else "closed; it answers 404 now"
    messages.success(request, f"Form “{form.name}” {state}.")
    return redirect("campaigns:forms")
