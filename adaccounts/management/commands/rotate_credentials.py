from django.core.management.base import BaseCommand

from adaccounts.services import ad_account_credentials_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every ad account's credentials under the newest key in FERNET_KEYS. "
        "Put the new key first, run this, then drop the old key."
    )

    def handle(self, *args: object, **options: object) -> None:
        count = ad_account_credentials_rotate()
        self.stdout.write(f"Re-encrypted credentials of {count} ad accounts under the newest key.")
