from django.core.management.base import BaseCommand, CommandParser

from adaccounts.services import api_user_create


class Command(BaseCommand):
    help = (
        "Create (or reuse) an API user and a team, add the user to the team, and print the "
        "user's API token on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--team", required=True, help="team name; created if missing")

    def handle(self, *args: object, username: str, team: str, **options: object) -> None:
        user, team_obj, token = api_user_create(username=username, team_name=team)
        self.stdout.write(f"User {user.username} is a member of team {team_obj.name}.")
        # Last line, alone, so scripts can take it with `tail -n 1`.
        self.stdout.write(token.key)
