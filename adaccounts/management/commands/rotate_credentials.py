from django.core.management.base import BaseCommand

from adaccounts.services import ad_account_credentials_rotate
from notifications.services import team_webhook_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every ad account's credentials (and every team's webhook secret) under "
        "the newest key in FERNET_KEYS. "
        "Put the new key first, run this, then drop the old key."
    )

    def handle(self, *args: object, **options: object) -> None:
        count = ad_account_credentials_rotate()
        self.stdout.write(f"Re-encrypted credentials of {count} ad accounts under the newest key.")
        secrets = team_webhook_secrets_reencrypt()
        self.stdout.write(f"Re-encrypted the webhook secrets of {secrets} teams as well.")
