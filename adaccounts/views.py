"""Ad account and team endpoints. Thin: selectors scope, serializers validate, services write."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from adaccounts import services
from adaccounts.filters import AdAccountFilter
from adaccounts.models import AdAccount, Team
from adaccounts.selectors import ad_account_list_for_user, team_list_member_of
from adaccounts.serializers import (
    AdAccountInputSerializer,
    AdAccountReplaceSerializer,
    AdAccountSerializer,
    AdAccountVerifySerializer,
    TeamSerializer,
    TeamUpdateAnswerSerializer,
    TeamUpdateSerializer,
    WebhookSecretSerializer,
)
from mojito.openapi import ERROR_RESPONSE_400, error_response
from notifications.services import team_webhook_secret_rotate, team_webhook_set
from platforms.registry import PlatformNotSupported


class PlatformUnavailable(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The platform did not answer; try again later."
    default_code = "platform_unavailable"


class TeamViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's teams. A team's webhook is set by a member of the team or by staff; other
    teams answer 404, as missing ones do."""

    serializer_class = TeamSerializer
    pagination_class = None  # a user is in a handful of teams

    queryset = Team.objects.none()  # for the schema generator; requests use get_queryset()

    def get_queryset(self) -> QuerySet[Team]:
        user = self.request.user
        if self.action != "list" and (user.is_staff or user.is_superuser):
            return Team.objects.order_by("name")
        return team_list_member_of(user=user)

    def list(self, request: Request) -> Response:
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    @extend_schema(request=TeamUpdateSerializer, responses={200: TeamUpdateAnswerSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Set (or clear, with null or "") the team's webhook_url. The answer of the PATCH that
        first sets one carries the team's webhook_secret, shown this once."""
        team = self.get_object()
        body = TeamUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team, secret = team_webhook_set(team=team, webhook_url=body.validated_data["webhook_url"])
        answer = TeamUpdateAnswerSerializer(team, context={"webhook_secret": secret})
        return Response(answer.data)

    @extend_schema(request=None, responses={200: WebhookSecretSerializer})
    @action(detail=True, methods=["post"], url_path="webhook_secret")
    def webhook_secret(self, request: Request, pk: str | None = None) -> Response:
        """Replace the team's webhook secret; the answer shows the new one, this once."""
        secret = team_webhook_secret_rotate(team=self.get_object())
        return Response({"webhook_secret": secret})


class AdAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Ad accounts of the caller's teams. Others' accounts answer 404, as missing ones do."""

    serializer_class = AdAccountSerializer
    filterset_class = AdAccountFilter

    queryset = AdAccount.objects.none()  # for the schema generator; requests use get_queryset()

    def get_queryset(self) -> QuerySet[AdAccount]:
        return ad_account_list_for_user(user=self.request.user).order_by("-created_at", "id")

    def _validated(
        self, request: Request, instance: AdAccount | None = None, partial: bool = False
    ) -> dict[str, Any]:
        serializer = AdAccountInputSerializer(
            instance, data=request.data, partial=partial, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=AdAccountInputSerializer, responses={201: AdAccountSerializer})
    def create(self, request: Request) -> Response:
        data = self._validated(request)
        account = services.ad_account_create(**data, actor=request.user)
        return Response(AdAccountSerializer(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AdAccountReplaceSerializer, responses={200: AdAccountSerializer})
    def update(self, request: Request, pk: str | None = None) -> Response:
        account = self.get_object()
        data = self._validated(request, account)
        account = services.ad_account_update(account=account, actor=request.user, **data)
        return Response(AdAccountSerializer(account).data)

    @extend_schema(request=AdAccountInputSerializer, responses={200: AdAccountSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        account = self.get_object()
        data = self._validated(request, account, partial=True)
        account = services.ad_account_update(account=account, actor=request.user, **data)
        return Response(AdAccountSerializer(account).data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.ad_account_delete(account=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={
            200: AdAccountVerifySerializer,
            # The platform has no verification yet (named on platform_type).
            400: ERROR_RESPONSE_400,
            502: error_response(PlatformUnavailable),
        },
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        """Ask the platform whether the credentials work; sets `status` from the answer."""
        account = self.get_object()
        try:
            result = services.ad_account_verify(account=account, actor=request.user)
        except PlatformNotSupported:
            raise exceptions.ValidationError(
                {
                    "platform_type": [
                        f"Verification is not available for {account.platform_type} yet."
                    ]
                }
            ) from None
        if result.transient:
            message = (result.error or {}).get("message") or PlatformUnavailable.default_detail
            raise PlatformUnavailable(f"The platform did not answer: {message}")
        return Response(AdAccountVerifySerializer.from_result(account, result))
