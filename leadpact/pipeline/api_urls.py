from django.urls import path

from leadpact.pipeline import api, quota_api, review_api

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
    path(
        "pipeline/pipelines/<int:pipeline_id>/",
        api.PipelineDetailApi.as_view(),
        name="pipeline-pipeline",
    ),
    path(
        "pipeline/pipelines/<int:pipeline_id>/stages/",
        api.StageListApi.as_view(),
        name="pipeline-stages",
    ),
    path("pipeline/lost-reasons/", api.LostReasonListApi.as_view(), name="pipeline-lost-reasons"),
    path(
        "pipeline/lost-reasons/<int:reason_id>/",
        api.LostReasonDetailApi.as_view(),
        name="pipeline-lost-reason",
    ),
    path("pipeline/deals/bulk/", api.DealBulkApi.as_view(), name="pipeline-deals-bulk"),
    path("pipeline/forecast/", api.ForecastApi.as_view(), name="pipeline-forecast"),
    path("pipeline/review/", review_api.ReviewApi.as_view(), name="pipeline-review"),
    path("pipeline/quotas/", quota_api.QuotaListApi.as_view(), name="pipeline-quotas"),
    path("pipeline/attainment/", quota_api.AttainmentApi.as_view(), name="pipeline-attainment"),
    path(
        "pipeline/forecast/adjustments/",
        quota_api.ForecastAdjustmentApi.as_view(),
        name="pipeline-forecast-adjustments",
    ),
    path(
        "pipeline/forecast/accuracy/",
        quota_api.ForecastAccuracyApi.as_view(),
        name="pipeline-forecast-accuracy",
    ),
]
