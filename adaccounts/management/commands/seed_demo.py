from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adaccounts.models import AdAccount, Team
from adaccounts.services import ad_account_create
from platforms.base import PlatformType


class Command(BaseCommand):
    help = (
        "Create the demo superuser (admin/admin by default) if it does not exist yet and, with "
        "--meta-account, a demo META ad account in --team. Development only: refuses to run "
        "unless DEBUG is true. Used by bin/run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")
        parser.add_argument("--team", default="demo", help="team of the demo ad account")
        parser.add_argument("--meta-account", help="act_ID of a demo META ad account")
        parser.add_argument("--meta-token", help="its access token (e.g. the sandbox's)")

    def handle(
        self,
        *args: object,
        username: str,
        password: str,
        team: str,
        meta_account: str | None,
        meta_token: str | None,
        **options: object,
    ) -> None:
        # A well-known password on a superuser is fine on a laptop and a hole anywhere else.
        if not settings.DEBUG:
            raise CommandError("seed_demo creates a superuser with a known password: DEBUG only.")
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Superuser {username} already exists (password unchanged).")
        else:
            User.objects.create_superuser(username=username, email="", password=password)
            self.stdout.write(f"Created superuser {username} with password {password}.")
        if meta_account:
            if not meta_token:
                raise CommandError("--meta-account needs --meta-token.")
            self._seed_meta_account(team_name=team, account_id=meta_account, token=meta_token)

    def _seed_meta_account(self, *, team_name: str, account_id: str, token: str) -> None:
        team, _ = Team.objects.get_or_create(name=team_name)
        account = (
            AdAccount.objects.live()
            .filter(platform_type=PlatformType.META, platform_account_id=account_id)
            .first()
        )
        if account is None:
            account = ad_account_create(
                team=team,
                platform_type=PlatformType.META,
                platform_account_id=account_id,
                name="Sandbox demo account",
                credentials={"access_token": token},
                actor=None,  # a command is the system in the audit trail
            )
        # The last line is the account's id, for scripts.
        self.stdout.write(f"Demo META ad account {account.platform_account_id} in team {team}:")
        self.stdout.write(str(account.pk))
