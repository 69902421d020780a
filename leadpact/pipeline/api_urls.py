from django.urls import path

from leadpact.pipeline import api

urlpatterns = [
    path("pipeline/deals/", api.DealListApi.as_view(), name="pipeline-deals"),
    path("pipeline/deals/<int:deal_id>/", api.DealDetailApi.as_view(), name="pipeline-deal"),
    path("pipeline/deals/<int:deal_id>/move/", api.DealMoveApi.as_view(), name="pipeline-move"),
    path(
        "pipeline/deals/<int:deal_id>/activities/",
        api.ActivityApi.as_view(),
        name="pipeline-activities",
    ),
    path("pipeline/pipelines/", api.PipelineListApi.as_view(), name="pipeline-pipelines"),
    path("pipeline/stages/<int:stage_id>/", api.StageDetailApi.as_view(), name="pipeline-stage"),
    path("pipeline/forecast/", api.ForecastApi.as_view(), name="pipeline-forecast"),
]
