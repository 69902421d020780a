from django.urls import path

from leadpact.leads import api

urlpatterns = [
    path("leads/", api.LeadListApi.as_view(), name="leads"),
    path("leads/<int:pk>/", api.LeadDetailApi.as_view(), name="lead"),
    path("leads/<int:pk>/timeline/", api.LeadTimelineApi.as_view(), name="lead-timeline"),
    path("leads/<int:pk>/notes/", api.LeadNoteApi.as_view(), name="lead-notes"),
    path("leads/<int:pk>/transitions/", api.LeadTransitionApi.as_view(), name="lead-transitions"),
]
