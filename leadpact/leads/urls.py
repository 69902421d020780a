from django.urls import path

from leadpact.leads.views import actions, detail, export
from leadpact.leads.views import list as list_views

app_name = "leads"

urlpatterns = [
    path("", list_views.lead_list, name="list"),
    path("export.csv", export.lead_export, name="export"),
    path("<int:lead_id>/", detail.lead_detail, name="detail"),
    path("<int:lead_id>/notes/", detail.lead_note, name="note_add"),
    path("<int:lead_id>/actions/<slug:action>/", actions.lead_act, name="act"),
]
