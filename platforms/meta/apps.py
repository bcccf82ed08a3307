from django.apps import AppConfig


class MetaPlatformConfig(AppConfig):
    name = "platforms.meta"
    label = "meta"
    verbose_name = "Meta"
    default_auto_field = "django.db.models.BigAutoField"
