"""The Celery app. Settings come from Django's (`CELERY_` namespace) so there is one source."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mojito.settings")

app = Celery("mojito")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(**kwargs: object) -> None:
    """Keep each worker thread's database connection across tasks, as web requests do.

    Celery's Django fixup closes every connection around each task unless
    CELERY_DB_REUSE_MAX is set (it is, in settings): a new PostgreSQL backend per job would
    cost more than the job's own queries. Django's own rule then applies: drop a connection
    that is broken or older than CONN_MAX_AGE.
    """
    from django.db import close_old_connections

    close_old_connections()
