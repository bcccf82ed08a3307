from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns and jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from adaccounts.signals import ad_account_deleted, ad_account_reactivated

        ad_account_reactivated.connect(_publish_waiting_jobs, dispatch_uid="campaigns-reactivated")
        ad_account_deleted.connect(_cancel_waiting_jobs, dispatch_uid="campaigns-deleted")


def _publish_waiting_jobs(sender: object, account_id: object, **kwargs: object) -> None:
    from campaigns.sweeps import jobs_publish_for_reactivated_account

    jobs_publish_for_reactivated_account(ad_account_id=account_id)


def _cancel_waiting_jobs(sender: object, account_id: object, **kwargs: object) -> None:
    # Jobs that are running finish their run; the claim or the sweeper cancels them after.
    from campaigns.sweeps import jobs_cancel_of_deleted_account

    jobs_cancel_of_deleted_account(ad_account_id=account_id)
