from django.apps import AppConfig


class AdAccountsConfig(AppConfig):
    name = "adaccounts"
    verbose_name = "Ad accounts"
    default_auto_field = "django.db.models.BigAutoField"
