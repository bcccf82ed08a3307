from django.contrib import admin
from django.urls import include, path, re_path

from adaccounts.views import AdAccountViewSet, TeamViewSet
from audit.views import AuditEventViewSet
from campaigns.insights_views import CampaignInsightsView
from campaigns.live_views import AdSetViewSet, AdViewSet, CampaignViewSet
from campaigns.views import AdSubmissionView, JobViewSet
from mojito.api import ApiNotFoundView, DocsView, OptionalSlashRouter, SchemaView
from mojito.health import healthz, readyz
from notifications.views import WebhookDeliveryViewSet
from platforms.registry import submission_platforms

router = OptionalSlashRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("ad_accounts", AdAccountViewSet, basename="ad-account")
router.register("jobs", JobViewSet, basename="job")
# Live objects. `ads/{id}` lives beside `ads/meta`: the submission routes come first below.
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("ad_sets", AdSetViewSet, basename="ad-set")
router.register("ads", AdViewSet, basename="ad")
router.register("audit_events", AuditEventViewSet, basename="audit-event")
router.register("webhook_deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

# Errors outside every view under /api/ (a middleware, Django's own body checks) answer in the
# API's JSON shape too; other paths keep Django's pages.
handler400 = "mojito.api.bad_request"
handler500 = "mojito.api.server_error"

urlpatterns = [
    re_path(r"^healthz/?$", healthz, name="healthz"),
    re_path(r"^readyz/?$", readyz, name="readyz"),
    re_path(r"^api/schema/?$", SchemaView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", DocsView.as_view(url_name="schema"), name="docs"),
    # One route per platform, so that the document types each body with the serializer that
    # validates it: POST /api/v1/ads/meta, later /ads/google_ads...
    *(
        re_path(
            rf"^api/v1/ads/{platform_type.lower()}/?$",
            AdSubmissionView.for_platform(platform_type, request_serializer),
            name=f"ads-submit-{platform_type.lower()}",
        )
        for platform_type, request_serializer in submission_platforms()
    ),
    re_path(
        r"^api/v1/campaigns/(?P<pk>[0-9a-fA-F-]+)/insights/?$",
        CampaignInsightsView.as_view(),
        name="campaign-insights",
    ),
    path("api/v1/", include(router.urls)),
    # Last under /api/: whatever matched no route above is the API's JSON 404.
    re_path(r"^api/", ApiNotFoundView.as_view(), name="api-not-found"),
    path("admin/", admin.site.urls),
    path("", include("mojito.bench_baseline")),  # bench-only: empty unless MOJITO_BENCH_BASELINE=1
]
