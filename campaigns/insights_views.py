"""`GET /api/v1/campaigns/{id}/insights` (API.md "Sync, insights and notifications"): the
campaign's daily figures as JSON, or the same rows as CSV with `?format=csv` (DRF picks the
renderer by `format`, or by `Accept: text/csv`).

Tenancy as for the campaign itself: another team's campaign (or a missing one) answers 404.
Errors are always JSON, whatever format was asked: a CSV error would hide which parameter
was wrong.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_csv.renderers import CSVRenderer

from campaigns.insights import (
    COLUMNS,
    InsightsQuerySerializer,
    InsightsResponseSerializer,
    insight_rows,
)
from campaigns.live_selectors import campaign_list_for_user
from mojito.openapi import ApiAutoSchema


class InsightsCSVRenderer(CSVRenderer):
    """The rows of `{"results": [...]}` as CSV: a header line, then one line per row, the
    columns in the JSON's order (nulls empty)."""

    header = list(COLUMNS)

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> Any:
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        return super().render(data, accepted_media_type, renderer_context or {})


class InsightsSchema(ApiAutoSchema):
    """Errors are documented as JSON only: that is how they are answered."""

    def _get_response_bodies(self, direction: str = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        for code, response in responses.items():
            if not str(code).startswith("2"):
                response.get("content", {}).pop(InsightsCSVRenderer.media_type, None)
        return responses


class CampaignInsightsView(APIView):
    renderer_classes = [JSONRenderer, InsightsCSVRenderer]
    schema = InsightsSchema()

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except (exceptions.NotFound, Http404):
            # An unknown ?format= is a bad parameter, said as such (DRF answers 404).
            if force:
                return (JSONRenderer(), JSONRenderer.media_type)
            raise serializers.ValidationError(
                {"format": ["Must be json or csv."]}, code="invalid_choice"
            ) from None
        except exceptions.NotAcceptable:
            if force:
                return (JSONRenderer(), JSONRenderer.media_type)
            raise

    def handle_exception(self, exc: Exception) -> Response:
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="campaigns_insights_retrieve",
        tags=["campaigns"],
        summary="A campaign's daily delivery figures",
        description=(
            "One row per object (the campaign, each ad set or each ad, by `level`) and day, "
            "the day in the ad account's time zone as the platform reports it, ordered by day "
            "then object. `spend`, `cpc` and `cpm` are integers in the currency's minor unit; "
            "`ctr` is the platform's string. Figures are those of the last sync (recent days "
            "are read again at each sync: the platform restates them). `?format=csv` (or "
            "`Accept: text/csv`) answers the same rows as CSV, a header line first."
        ),
        parameters=[
            InsightsQuerySerializer,
            OpenApiParameter(
                "format", str, OpenApiParameter.QUERY, enum=["json", "csv"], required=False
            ),
        ],
        responses={
            (200, "application/json"): InsightsResponseSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The rows as CSV: " + ",".join(COLUMNS) + ", then one line per row.",
            ),
        },
    )
    def get(self, request: Request, pk: str) -> Response:
        try:
            wanted = UUID(pk)
        except ValueError:
            raise exceptions.NotFound("No campaign with this id.") from None
        campaign_id = (
            campaign_list_for_user(user=request.user)
            .filter(pk=wanted)
            .values_list("pk", flat=True)
            .first()
        )
        if campaign_id is None:
            raise exceptions.NotFound("No campaign with this id.")
        query = InsightsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = insight_rows(campaign_id=campaign_id, **query.validated_data)
        response = Response({"results": rows})
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'inline; filename="campaign-{pk}-insights.csv"'
        return response
