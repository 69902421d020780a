from django.urls import path

from leadpact.campaigns import api

urlpatterns = [
    path("campaigns/", api.CampaignListApi.as_view(), name="campaigns"),
    path("campaigns/<int:pk>/", api.CampaignDetailApi.as_view(), name="campaign"),
    path("touches/bulk/", api.TouchBulkApi.as_view(), name="touches-bulk"),
]
