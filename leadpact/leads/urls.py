from django.urls import path

from leadpact.leads.views import list as list_views

app_name = "leads"

urlpatterns = [
    path("", list_views.lead_list, name="list"),
]
