from django.urls import path

from leadpact.leads.views import list as list_views

app_name = "imports"

# Placeholder until the import pages land.
urlpatterns = [path("", list_views.lead_list, name="list")]
