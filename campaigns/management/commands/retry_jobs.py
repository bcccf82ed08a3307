import uuid
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from campaigns.models import RETRYABLE_STATUSES
from campaigns.services import jobs_retry


def _since(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--since: {value!r} is not an ISO 8601 date-time.")
    return make_aware(parsed) if is_naive(parsed) else parsed


class Command(BaseCommand):
    help = (
        "Retry FAILED / PARTIAL_SUCCESS jobs: resumes each from its checkpoints, never creating "
        "again what already has a platform ID."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_ids", nargs="*", metavar="JOB_ID", type=uuid.UUID)
        parser.add_argument("--status", choices=[str(s) for s in RETRYABLE_STATUSES])
        parser.add_argument("--since", type=_since, help="only jobs updated at or after (ISO)")

    def handle(
        self,
        *args: object,
        job_ids: list[uuid.UUID],
        status: str | None,
        since: datetime | None,
        **options: object,
    ) -> None:
        if not (job_ids or status or since):
            raise CommandError("Name JOB_IDs, or select with --status and/or --since.")
        # A command is the system in the audit trail (it has no user).
        retried = jobs_retry(job_ids=job_ids or None, status=status, since=since, actor=None)
        for job in retried:
            self.stdout.write(f"retrying {job.pk}")
        self.stdout.write(f"{len(retried)} job(s) queued for retry.")
