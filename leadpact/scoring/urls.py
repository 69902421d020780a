from django.urls import path

from leadpact.scoring import views

app_name = "scoring"

urlpatterns = [
    path("", views.live, name="live"),
    path("versions/", views.versions, name="versions"),
    path("versions/<int:profile_id>/", views.version, name="version"),
    path("versions/<int:profile_id>/edit/", views.version_edit, name="edit"),
    path("versions/<int:profile_id>/<slug:action>/", views.version_action, name="action"),
    path("fit/history/", views.fit_history, name="fit_history"),
    path("fit/csv/", views.fit_csv, name="fit_csv"),
]
