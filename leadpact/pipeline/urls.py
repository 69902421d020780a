from django.urls import path

from leadpact.pipeline.views import deals, forecast, process, quotas, review

app_name = "pipeline"

urlpatterns = [
    path("", deals.board, name="board"),
    path("deals/new/", deals.deal_new, name="deal_new"),
    path("deals/<int:deal_id>/", deals.deal_detail, name="deal"),
    path("deals/<int:deal_id>/edit/", deals.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/move/", deals.deal_move_view, name="deal_move"),
    path("deals/<int:deal_id>/activities/", deals.activity_new, name="activity_new"),
    path("forecast/", forecast.forecast, name="forecast"),
    path("forecast/adjustments/", forecast.adjustment_set, name="adjustment_set"),
    path("quotas/", quotas.quotas, name="quotas"),
    path("quotas/set/", quotas.quota_set_view, name="quota_set"),
    path("quotas/targets/", quotas.target_set_view, name="target_set"),
    path("review/", review.review, name="review"),
    path("review/bulk/", review.bulk_update, name="bulk_update"),
    path("process/", process.settings, name="process"),
    path("process/pipelines/new/", process.pipeline_new, name="pipeline_new"),
    path("process/pipelines/<int:pipeline_id>/", process.pipeline_edit, name="pipeline_edit"),
    path("process/pipelines/<int:pipeline_id>/stages/", process.stage_new, name="stage_new"),
    path("process/stages/<int:stage_id>/", process.stage_edit, name="stage_edit"),
    path("process/stages/<int:stage_id>/shift/", process.stage_shift, name="stage_shift"),
    path("process/stages/<int:stage_id>/delete/", process.stage_remove, name="stage_remove"),
    path("process/lost-reasons/", process.lost_reason_new, name="lost_reason_new"),
    path(
        "process/lost-reasons/<int:reason_id>/",
        process.lost_reason_toggle,
        name="lost_reason_toggle",
    ),
]
