from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Create the demo superuser (admin/admin by default) if it does not exist yet. "
        "Development only: refuses to run unless DEBUG is true. Used by bin/run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")

    def handle(self, *args: object, username: str, password: str, **options: object) -> None:
        # A well-known password on a superuser is fine on a laptop and a hole anywhere else.
        if not settings.DEBUG:
            raise CommandError("seed_demo creates a superuser with a known password: DEBUG only.")
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Superuser {username} already exists (password unchanged).")
            return
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"Created superuser {username} with password {password}.")
