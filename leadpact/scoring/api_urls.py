from django.urls import path

from leadpact.scoring import api

urlpatterns = [
    path("profile/versions/", api.ProfileListApi.as_view(), name="profile-versions"),
    path("profile/live/", api.ProfileLiveApi.as_view(), name="profile-live"),
    path("profile/fit/", api.ProfileFitApi.as_view(), name="profile-fit"),
    path("profile/fits/<int:run_id>/", api.FitRunApi.as_view(), name="profile-fit-run"),
    path(
        "profile/versions/<int:profile_id>/",
        api.ProfileDetailApi.as_view(),
        name="profile-version",
    ),
    path(
        "profile/versions/<int:profile_id>/<slug:action>/",
        api.ProfileActionApi.as_view(),
        name="profile-action",
    ),
]
