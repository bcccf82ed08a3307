from django.apps import AppConfig


class MetaPlatformConfig(AppConfig):
    name = "platforms.meta"
    label = "meta"
    verbose_name = "Meta"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The OpenAPI extensions register themselves when their module is imported.
        from platforms.meta import openapi  # noqa: F401
