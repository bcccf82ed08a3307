import logging

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

logger = logging.getLogger("platforms.meta")


class MetaPlatformConfig(AppConfig):
    name = "platforms.meta"
    label = "meta"
    verbose_name = "Meta"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The OpenAPI extensions register themselves when their module is imported.
        from platforms.meta import openapi  # noqa: F401
        from platforms.meta.checks import check_api_version

        checks.register(check_api_version, "meta")
        # Once per process (web worker, Celery worker, beat, command): which Graph API version
        # every call names, and where the calls go.
        logger.info("Meta Graph API %s at %s", settings.META_API_VERSION, settings.META_GRAPH_URL)
