from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "platforms"
    verbose_name = "Platforms"
    default_auto_field = "django.db.models.BigAutoField"
