from django.urls import path

from leadpact.leads.views import duplicates

app_name = "duplicates"

urlpatterns = [
    path("", duplicates.duplicate_list, name="list"),
    path("scan/", duplicates.duplicate_scan, name="scan"),
    path("<int:candidate_id>/merge/", duplicates.duplicate_merge, name="merge"),
    path("<int:candidate_id>/dismiss/", duplicates.duplicate_dismiss_pair, name="dismiss"),
    path("<int:candidate_id>/unmerge/", duplicates.duplicate_unmerge, name="unmerge"),
]
