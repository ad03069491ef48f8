"""Tokens for scripts; the browser uses its session with the same role rules."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.permissions import acting_user
from annotations.api.serializers import errors
from annotations.roles import ROLE_PERMISSIONS, role_of


class TokenApi(APIView):
    def get_authenticators(self) -> list[BaseAuthentication]:
        # Getting a token is a login for scripts: it needs no session, hence no CSRF token.
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self) -> list[BasePermission]:
        if getattr(self.request, "method", None) == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    class TokenInput(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class TokenOutput(serializers.Serializer):
        token = serializers.CharField()
        username = serializers.CharField()
        role = serializers.CharField(allow_null=True)

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenInput,
        responses={200: TokenOutput, **errors(400, 429)},
        auth=[],
        summary="Get an API token for a user name and password",
        description=(
            "Too many wrong passwords for one account or from one address lock both out for "
            "a while: the answer is 429 with `code` `locked_out`, `locked_until` and "
            "`Retry-After`."
        ),
    )
    def post(self, request: Request) -> Response:
        given = self.TokenInput(data=request.data)
        given.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=given.validated_data["username"],
            password=given.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise ValidationError("Wrong user name or password.", code="invalid_credentials")
        token, _created = Token.objects.get_or_create(user=user)
        role = role_of(user)
        return Response(
            self.TokenOutput(
                {"token": token.key, "username": user.get_username(), "role": role}
            ).data
        )

    @extend_schema(
        operation_id="auth_token_destroy",
        request=None,
        responses={204: None, **errors()},
        summary="Revoke the caller's API token",
    )
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=acting_user(request)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    class MeOutput(serializers.Serializer):
        username = serializers.CharField()
        role = serializers.CharField(allow_null=True)
        permissions = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses={200: MeOutput, **errors()}, summary="Who the caller is")
    def get(self, request: Request) -> Response:
        user = acting_user(request)
        role = role_of(user)
        permissions = (
            sorted(name for name in ROLE_PERMISSIONS[role] if user.has_perm(name)) if role else []
        )
        return Response(
            self.MeOutput(
                {"username": user.get_username(), "role": role, "permissions": permissions}
            ).data
        )
