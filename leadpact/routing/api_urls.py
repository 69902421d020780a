from django.urls import path

from leadpact.routing import api

urlpatterns = [
    path("routing/offers/", api.OfferListApi.as_view(), name="routing-offers"),
    path("routing/leads/<int:lead_id>/accept/", api.AcceptApi.as_view(), name="routing-accept"),
    path("routing/leads/<int:lead_id>/reject/", api.RejectApi.as_view(), name="routing-reject"),
    path("routing/leads/<int:lead_id>/qualify/", api.QualifyApi.as_view(), name="routing-qualify"),
    path("routing/rules/", api.RuleListApi.as_view(), name="routing-rules"),
    path("routing/run/", api.RouteRunApi.as_view(), name="routing-run"),
    path("sla/policies/", api.PolicyListApi.as_view(), name="sla-policies"),
    path("sla/clocks/<int:pk>/pause/", api.ClockPauseApi.as_view(), name="sla-clock-pause"),
    path("sla/clocks/<int:pk>/resume/", api.ClockResumeApi.as_view(), name="sla-clock-resume"),
]
