from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from adaccounts.views import AdAccountViewSet, TeamViewSet
from campaigns.views import AdSubmissionView, JobViewSet
from mojito.api import OptionalSlashRouter
from mojito.health import healthz, readyz

router = OptionalSlashRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("ad_accounts", AdAccountViewSet, basename="ad-account")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    re_path(r"^healthz/?$", healthz, name="healthz"),
    re_path(r"^readyz/?$", readyz, name="readyz"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/v1/ads/(?P<platform>[a-z_]+)/?$", AdSubmissionView.as_view(), name="ads-submit"),
    path("api/v1/", include(router.urls)),
    path("admin/", admin.site.urls),
    path("", include("mojito.bench_baseline")),  # bench-only: empty unless MOJITO_BENCH_BASELINE=1
]
