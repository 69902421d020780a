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
    path("sla/calendars/", views.calendars, name="calendars"),
    path("sla/calendars/<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("reasons/", views.reasons, name="reasons"),
    path("reasons/<int:pk>/", views.reason_edit, name="reason_edit"),
    path("checklist/", views.checklist, name="checklist"),
    path("checklist/<int:pk>/", views.checklist_edit, name="checklist_edit"),
    path("sla/clocks/<int:pk>/pause/", views.clock_pause_view, name="clock_pause"),
    path("sla/clocks/<int:pk>/resume/", views.clock_resume_view, name="clock_resume"),
]
