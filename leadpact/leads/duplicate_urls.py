from django.urls import path

from leadpact.leads.views import list as list_views

app_name = "duplicates"

# Placeholder until the duplicates pages land.
urlpatterns = [path("", list_views.lead_list, name="list")]
