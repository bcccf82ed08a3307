from django.core.management.base import BaseCommand

from campaigns.sweeps import jobs_publish_unclaimed, jobs_requeue_stuck


class Command(BaseCommand):
    help = (
        "Return PROCESSING jobs whose lease expired (their worker died) to PENDING, and publish "
        "PENDING jobs nobody claimed. The beat sweeper does the same periodically."
    )

    def handle(self, *args: object, **options: object) -> None:
        requeued = jobs_requeue_stuck()
        published = jobs_publish_unclaimed()
        for job_id in requeued:
            self.stdout.write(f"requeued {job_id}")
        self.stdout.write(
            f"{len(requeued)} stuck job(s) returned to PENDING; "
            f"{len(published)} pending job(s) published."
        )
