from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Webhooks and callbacks"
    default_auto_field = "django.db.models.BigAutoField"
