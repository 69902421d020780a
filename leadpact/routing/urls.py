from django.urls import path

from leadpact.routing import views

app_name = "routing"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("leads/<int:lead_id>/accept/", views.accept, name="accept"),
    path("leads/<int:lead_id>/reject/", views.reject, name="reject"),
    path("leads/<int:lead_id>/qualify/", views.qualify, name="qualify"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("reps/<int:rep_id>/availability/", views.availability, name="availability"),
    path("run/", views.route_now, name="run"),
    path("fallback/", views.fallback, name="fallback"),
    path("sla/", views.policies, name="policies"),
    path("sla/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("compliance/", views.compliance, name="compliance"),
]
