from django.urls import path

from leadpact.leads.views import list as list_views

app_name = "campaigns"

# Placeholder until the campaign pages land.
urlpatterns = [
    path("", list_views.lead_list, name="list"),
    path("forms/", list_views.lead_list, name="forms"),
]
