from django.urls import path

from leadpact.campaigns import views
from leadpact.leads.views import forms as form_views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create_page, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit_page, name="edit"),
    path("forms/", form_views.web_form_list, name="forms"),
    path("forms/<int:pk>/toggle/", form_views.web_form_toggle, name="form_toggle"),
]
