from django.urls import path

from leadpact.pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("", views.board, name="board"),
    path("deals/new/", views.deal_new, name="deal_new"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/move/", views.deal_move_view, name="deal_move"),
    path("deals/<int:deal_id>/activities/", views.activity_new, name="activity_new"),
    path("forecast/", views.forecast, name="forecast"),
    path("review/", views.review, name="review"),
]
