from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.accounts.models import ApiToken
from leadpact.accounts.selectors import api_token_list
from leadpact.accounts.services import api_token_create, api_token_revoke
from leadpact.common.api import StrictSerializer
from leadpact.common.errors import ApplicationError


class TokenOut(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]


class TokenCreateIn(StrictSerializer):
    name = serializers.CharField(max_length=100)


class TokenCreatedOut(TokenOut):
    token = serializers.CharField(help_text="The secret; shown once, never again.")

    class Meta(TokenOut.Meta):
        fields = [*TokenOut.Meta.fields, "token"]


class TokenListApi(APIView):
    @extend_schema(responses=TokenOut(many=True), summary="Your API tokens")
    def get(self, request: Request) -> Response:
        return Response(TokenOut(api_token_list(user=request.user), many=True).data)

    @extend_schema(request=TokenCreateIn, responses={201: TokenCreatedOut}, summary="New token")
    def post(self, request: Request) -> Response:
        data = TokenCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw = api_token_create(user=request.user, name=data.validated_data["name"])
        body = TokenOut(token).data | {"token": raw}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    @extend_schema(request=None, responses=TokenOut, summary="Revoke a token")
    def post(self, request: Request, pk: int) -> Response:
        token = ApiToken.objects.filter(pk=pk, user=request.user).first()
        if token is None:
            raise ApplicationError("No such token of yours.", code="not_found", status=404)
        return Response(TokenOut(api_token_revoke(token=token, actor=request.user)).data)
