from django.urls import path

from leadpact.routing.views import lists, queue, rules, sla

app_name = "routing"

urlpatterns = [
    path("queue/", queue.queue, name="queue"),
    path("leads/<int:lead_id>/accept/", queue.accept, name="accept"),
    path("leads/<int:lead_id>/reject/", queue.reject, name="reject"),
    path("leads/<int:lead_id>/qualify/", queue.qualify, name="qualify"),
    path("rules/", rules.rules, name="rules"),
    path("rules/<int:pk>/", rules.rule_edit, name="rule_edit"),
    path("reps/<int:rep_id>/availability/", rules.availability, name="availability"),
    path("run/", rules.route_now, name="run"),
    path("fallback/", rules.fallback, name="fallback"),
    path("sla/", sla.policies, name="policies"),
    path("sla/<int:pk>/", sla.policy_edit, name="policy_edit"),
    path("compliance/", sla.compliance, name="compliance"),
    path("sla/calendars/", sla.calendars, name="calendars"),
    path("sla/calendars/<int:pk>/", sla.calendar_edit, name="calendar_edit"),
    path("reasons/", lists.reasons, name="reasons"),
    path("reasons/<int:pk>/", lists.reason_edit, name="reason_edit"),
    path("checklist/", lists.checklist, name="checklist"),
    path("checklist/<int:pk>/", lists.checklist_edit, name="checklist_edit"),
    path("sla/clocks/<int:pk>/pause/", queue.clock_pause_view, name="clock_pause"),
    path("sla/clocks/<int:pk>/resume/", queue.clock_resume_view, name="clock_resume"),
]
