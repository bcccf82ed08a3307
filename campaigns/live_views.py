"""Live object endpoints: `/api/v1/campaigns`, `/api/v1/ad_sets`, `/api/v1/ads` (API.md "Live
objects"). Thin: `campaigns.live` validates and accepts every write as a job, these translate to
HTTP (202 with the job and its Location, 409 for an object that cannot take the request).

Tenancy is the querysets': another team's object (or one of a deleted account) is not found,
exactly as a missing one. PUT is not offered: a change names only what it changes (PATCH).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import live
from campaigns.live_selectors import (
    ad_list_for_user,
    ad_set_list_for_user,
    ad_set_with_ads,
    campaign_list_for_user,
    campaign_with_tree,
)
from campaigns.live_serializers import (
    CampaignImportRequestSerializer,
    LiveAdDetailSerializer,
    LiveAdSetDetailSerializer,
    LiveCampaignDetailSerializer,
    LiveCampaignSerializer,
    additions_request_body,
    change_request_body,
    live_data,
)
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, ObjectType
from campaigns.serializers import JobSerializer, job_data
from campaigns.sync import campaign_sync_submit
from campaigns.views import Conflict
from mojito.openapi import error_response
from mojito.parsers import SafeJSONParser
from mojito.query import query_flag
from notifications.serializers import CALLBACK_URL_HELP
from platforms.base import PlatformType

LIVE_STATUSES = [("ACTIVE", "Active"), ("PAUSED", "Paused"), ("ARCHIVED", "Archived")]

_LOCATION = OpenApiParameter(
    "Location",
    str,
    OpenApiParameter.HEADER,
    description="/api/v1/jobs/<id> of the job.",
    response=[202],
)
_CASCADE = OpenApiParameter(
    "cascade",
    bool,
    OpenApiParameter.QUERY,
    description="true (or 1): a status change applies to the campaign's live ad sets and ads "
    "too (archived ones are left alone).",
)
_CALLBACK_URL = OpenApiParameter(
    "callback_url", str, OpenApiParameter.QUERY, description=CALLBACK_URL_HELP
)


def _accepted(job: CampaignJob) -> Response:
    """202 with the job as `GET /api/v1/jobs/{id}` shows it."""
    job = CampaignJob.objects.select_related("campaign").get(pk=job.pk)
    response = Response(job_data(job), status=status.HTTP_202_ACCEPTED)
    response["Location"] = f"/api/v1/jobs/{job.pk}"
    return response


def _job_schema(summary: str, request: Any = None, **extra: Any) -> Any:
    return extend_schema(
        summary=summary,
        request=request,
        responses={
            202: OpenApiResponse(JobSerializer, description="The job, accepted."),
            409: OpenApiResponse(
                error_response(Conflict),
                description="The object cannot take this yet (the job creating it has not "
                "finished, or it was never created), or any more (archived).",
            ),
        },
        parameters=[_LOCATION, *extra.pop("parameters", [])],
        **extra,
    )


class _LiveObjectViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """GET, PATCH (an UPDATE job) and DELETE (an ARCHIVE job) of one kind of live object."""

    object_type: ClassVar[str]
    parser_classes = [SafeJSONParser]
    # Ids are UUIDs: `ads/META` is no ad (the submission's path in another case), and
    # answers the API's 404 for unrouted paths rather than a 405 of `ads/{id}`.
    lookup_value_regex = "[0-9a-fA-F-]+"

    def _submit(self, callback: Any, **kwargs: Any) -> Response:
        try:
            job = callback(user=self.request.user, **kwargs)
        except (live.ObjectNotReady, live.AlreadyImported) as exc:
            raise Conflict(str(exc)) from None
        return _accepted(job)

    def _cascade(self, request: Request) -> bool:
        if "cascade" in request.query_params:
            # Said rather than ignored: the client expects the tree to follow.
            raise serializers.ValidationError(
                {"cascade": ["Only a campaign's status change cascades to what is under it."]}
            )
        return False

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._submit(
            live.live_change_submit,
            object_type=self.object_type,
            obj=self.get_object(),
            data=request.data,
            cascade=self._cascade(request),
        )

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        return self._submit(
            live.live_archive_submit,
            object_type=self.object_type,
            obj=self.get_object(),
            callback_url=request.query_params.get("callback_url"),
        )


class CampaignFilter(filters.FilterSet):
    ad_account_id = filters.UUIDFilter(field_name="ad_account_id")
    status = filters.ChoiceFilter(choices=LIVE_STATUSES)
    effective_status = filters.CharFilter(field_name="effective_status")
    platform_type = filters.ChoiceFilter(
        choices=PlatformType.choices, field_name="ad_account__platform_type"
    )

    class Meta:
        model = Campaign
        fields = ["ad_account_id", "status", "effective_status", "platform_type"]


class CampaignViewSet(mixins.ListModelMixin, _LiveObjectViewSet):
    """The caller's campaigns, newest first; one with its ad sets, ads and creatives."""

    object_type = ObjectType.CAMPAIGN
    queryset = Campaign.objects.none()  # for the schema generator; requests use get_queryset
    filterset_class = CampaignFilter

    def get_queryset(self) -> QuerySet[Campaign]:
        campaigns = campaign_list_for_user(user=self.request.user)
        return campaign_with_tree(campaigns) if self.action == "retrieve" else campaigns

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return LiveCampaignSerializer if self.action == "list" else LiveCampaignDetailSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # every list is paginated (DEFAULT_PAGINATION_CLASS)
        return self.get_paginated_response([live_data(LiveCampaignSerializer, c) for c in page])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(live_data(LiveCampaignDetailSerializer, self.get_object()))

    def _cascade(self, request: Request) -> bool:
        return query_flag(request, "cascade")

    @_job_schema(
        "Change a campaign (an UPDATE job)",
        change_request_body(ObjectType.CAMPAIGN),
        parameters=[_CASCADE],
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return super().partial_update(request, pk)

    @_job_schema("Archive a campaign (an ARCHIVE job)", parameters=[_CALLBACK_URL])
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        return super().destroy(request, pk)

    @_job_schema("Add ad sets to a live campaign (a CREATE job)", additions_request_body("ad_sets"))
    @action(detail=True, methods=["post"], url_path="ad_sets")
    def add_ad_sets(self, request: Request, pk: str | None = None) -> Response:
        return self._submit(
            live.live_add_submit,
            parent_type=ObjectType.CAMPAIGN,
            parent=self.get_object(),
            data=request.data,
        )

    @_job_schema(
        "Read the campaign's statuses back from the platform now (a SYNC job)",
        description="A sync of the campaign already waiting or running is answered instead "
        "of a second one. `callback_url` (in the body or the query string) is told of its end.",
        parameters=[_CALLBACK_URL],
    )
    @action(detail=True, methods=["post"], url_path="sync")
    def sync(self, request: Request, pk: str | None = None) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        return self._submit(
            campaign_sync_submit,
            campaign=self.get_object(),
            callback_url=body.get("callback_url", request.query_params.get("callback_url")),
        )

    @_job_schema(
        "Import a campaign built elsewhere (an IMPORT job)",
        CampaignImportRequestSerializer,
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_campaign(self, request: Request) -> Response:
        return self._submit(live.live_import_submit, data=request.data)


class AdSetViewSet(_LiveObjectViewSet):
    """One ad set of the caller's, with its ads."""

    object_type = ObjectType.AD_SET
    queryset = AdSet.objects.none()
    serializer_class = LiveAdSetDetailSerializer

    def get_queryset(self) -> QuerySet[AdSet]:
        ad_sets = ad_set_list_for_user(user=self.request.user)
        return ad_set_with_ads(ad_sets) if self.action == "retrieve" else ad_sets

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(live_data(LiveAdSetDetailSerializer, self.get_object()))

    @_job_schema("Change an ad set (an UPDATE job)", change_request_body(ObjectType.AD_SET))
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return super().partial_update(request, pk)

    @_job_schema("Archive an ad set (an ARCHIVE job)", parameters=[_CALLBACK_URL])
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        return super().destroy(request, pk)

    @_job_schema("Add ads to a live ad set (a CREATE job)", additions_request_body("ads"))
    @action(detail=True, methods=["post"], url_path="ads")
    def add_ads(self, request: Request, pk: str | None = None) -> Response:
        return self._submit(
            live.live_add_submit,
            parent_type=ObjectType.AD_SET,
            parent=self.get_object(),
            data=request.data,
        )


class AdViewSet(_LiveObjectViewSet):
    """One ad of the caller's, with its creative."""

    object_type = ObjectType.AD
    queryset = Ad.objects.none()
    serializer_class = LiveAdDetailSerializer

    def get_queryset(self) -> QuerySet[Ad]:
        return ad_list_for_user(user=self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(live_data(LiveAdDetailSerializer, self.get_object()))

    @_job_schema(
        "Change an ad (an UPDATE job; a new creative is created and swapped in)",
        change_request_body(ObjectType.AD),
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return super().partial_update(request, pk)

    @_job_schema("Archive an ad (an ARCHIVE job)", parameters=[_CALLBACK_URL])
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        return super().destroy(request, pk)
