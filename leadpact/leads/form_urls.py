from django.urls import path

from leadpact.leads.views.forms import WebFormCaptureApi

app_name = "forms"

urlpatterns = [path("<slug:key>", WebFormCaptureApi.as_view(), name="capture")]
