from django.urls import path

from leadpact.leads.views import imports

app_name = "imports"

urlpatterns = [
    path("", imports.import_list, name="list"),
    path("upload", imports.import_upload, name="upload"),
    path("<int:job_id>/", imports.import_detail, name="detail"),
    path("<int:job_id>/mapping", imports.import_mapping, name="mapping"),
    path("<int:job_id>/status", imports.import_status, name="status"),
    path("<int:job_id>/report", imports.import_report, name="report"),
    path("<int:job_id>/resume", imports.import_resume, name="resume"),
]
