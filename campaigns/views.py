"""Ad submission and job endpoints. Thin: the services decide, these translate to HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import services
from campaigns.models import CampaignJob, JobKind, JobStatus
from campaigns.selectors import job_list_for_user, job_with_tree
from campaigns.serializers import (
    JobListSerializer,
    JobSerializer,
    ValidationResultSerializer,
    job_data,
)
from mojito.openapi import error_response
from mojito.parsers import SafeJSONParser
from mojito.query import query_flag
from platforms.base import PlatformType

IDEMPOTENCY_KEY_MAX_LENGTH = 255


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The job is not in a state that allows this."
    default_code = "conflict"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


def _location(*status_codes: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Location",
        str,
        OpenApiParameter.HEADER,
        description="/api/v1/jobs/<id> of the job.",
        response=list(status_codes),
    )


def _job_response(job: CampaignJob, status_code: int, *, fresh: bool = False) -> Response:
    """The job with its tree; `fresh` jobs carry their tree in memory already."""
    if not fresh:
        job = job_with_tree(CampaignJob.objects.select_related("campaign")).get(pk=job.pk)
    response = Response(job_data(job), status=status_code)
    response["Location"] = f"/api/v1/jobs/{job.pk}"
    return response


class AdSubmissionView(APIView):
    """Accept a whole ad structure for one platform and answer 202 with the job at once.

    One route per platform (`for_platform`), so that the document types each body with the
    serializer that validates it.
    """

    # JSON only: anything else is 415, never a half-parsed form.
    parser_classes = [SafeJSONParser]
    platform_type: ClassVar[str]

    @classmethod
    def for_platform(
        cls, platform_type: PlatformType, request_serializer: type[serializers.Serializer]
    ) -> Callable[..., Any]:
        """The view of `POST /api/v1/ads/<platform>`, documented with `request_serializer`."""
        slug = platform_type.lower()
        view = type(
            f"{platform_type.label.replace(' ', '')}AdSubmissionView",
            (cls,),
            {"platform_type": platform_type, "__doc__": cls.__doc__, "__module__": __name__},
        )
        schema = extend_schema(
            operation_id=f"ads_{slug}_submit",
            request=request_serializer,
            description=f"Submit a whole {platform_type.label} ad structure (campaign, ad sets, "
            "ads and their creatives). It is validated at once, every invalid field named in "
            "one 400; a valid one answers 202 with the job that creates it.",
        )
        return extend_schema_view(post=schema)(view).as_view()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "validate_only",
                bool,
                OpenApiParameter.QUERY,
                description="true (or 1): only validate; nothing is stored or sent.",
            ),
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
                OpenApiParameter.HEADER,
                description="The same key with the same body returns the first answer again.",
            ),
            _location(202),
        ],
        responses={
            202: JobSerializer,
            200: OpenApiResponse(ValidationResultSerializer, description="validate_only"),
            422: OpenApiResponse(
                error_response(IdempotencyConflict),
                description="The Idempotency-Key was used with another body.",
            ),
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        # A body over DATA_UPLOAD_MAX_MEMORY_SIZE never gets here: 413 (mojito.middleware).
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 0 < len(key.strip()) <= IDEMPOTENCY_KEY_MAX_LENGTH:
            raise exceptions.ValidationError(
                {"Idempotency-Key": [f"Must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters."]}
            )
        validate_only = query_flag(request, "validate_only")
        try:
            submission = services.job_submit(
                user=request.user,
                platform_type=self.platform_type,
                data=request.data,
                idempotency_key=key.strip() if key else None,
                validate_only=validate_only,
            )
        except services.IdempotencyKeyReused:
            raise IdempotencyConflict() from None
        if submission is None:
            return Response({"valid": True})
        return _job_response(submission.job, status.HTTP_202_ACCEPTED, fresh=submission.created)


class JobFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=JobStatus.choices)
    ad_account_id = filters.UUIDFilter(field_name="ad_account_id")
    # Beyond API.md's two: a client following one object's jobs (its changes, its syncs).
    kind = filters.ChoiceFilter(choices=JobKind.choices)
    object_id = filters.UUIDFilter(field_name="object_id")

    class Meta:
        model = CampaignJob
        fields = ["status", "ad_account_id", "kind", "object_id"]


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Jobs of the caller's teams; others' answer 404, as missing ones do."""

    queryset = CampaignJob.objects.none()  # for the schema generator; requests use get_queryset()
    filterset_class = JobFilter

    def get_queryset(self) -> QuerySet[CampaignJob]:
        jobs = job_list_for_user(user=self.request.user).order_by("-created_at", "id")
        if self.action != "retrieve":
            # retry and cancel change the job, then answer with the tree read afterwards.
            return jobs
        return job_with_tree(jobs)

    def get_serializer_class(self) -> type[JobSerializer]:
        return JobListSerializer if self.action == "list" else JobSerializer

    @extend_schema(
        request=None,
        parameters=[_location(202)],
        responses={202: JobSerializer, 409: error_response(Conflict)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        try:
            job = services.job_retry(job=self.get_object(), actor=request.user)
        except services.JobStateConflict as exc:
            raise Conflict(str(exc)) from None
        return _job_response(job, status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        parameters=[_location(200)],
        responses={200: JobSerializer, 409: error_response(Conflict)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        try:
            job = services.job_cancel(job=self.get_object(), actor=request.user)
        except services.JobStateConflict as exc:
            raise Conflict(str(exc)) from None
        return _job_response(job, status.HTTP_200_OK)
