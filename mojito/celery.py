"""The Celery app. Settings come from Django's (`CELERY_` namespace) so there is one source."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mojito.settings")

app = Celery("mojito")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
