from django.urls import path

from leadpact.accounts import api

urlpatterns = [
    path("tokens/", api.TokenListApi.as_view(), name="tokens"),
    path("tokens/<int:pk>/revoke/", api.TokenRevokeApi.as_view(), name="token-revoke"),
]
