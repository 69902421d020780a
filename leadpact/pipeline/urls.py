from django.urls import path

from leadpact.pipeline.views import deals, forecast, review

app_name = "pipeline"

urlpatterns = [
    path("", deals.board, name="board"),
    path("deals/new/", deals.deal_new, name="deal_new"),
    path("deals/<int:deal_id>/", deals.deal_detail, name="deal"),
    path("deals/<int:deal_id>/edit/", deals.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/move/", deals.deal_move_view, name="deal_move"),
    path("deals/<int:deal_id>/activities/", deals.activity_new, name="activity_new"),
    path("forecast/", forecast.forecast, name="forecast"),
    path("review/", review.review, name="review"),
]
