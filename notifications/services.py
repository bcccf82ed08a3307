"""A team's webhook: its URL and its secret (API.md "Notifications").

The secret signs every delivery of the team (its webhook's and its requests' callbacks). It is
shown once: in the answer of the PATCH that first sets a `webhook_url` (made then if the team
has none), or by `team_webhook_secret_rotate`, which replaces it. A callback of a team that
never had a secret gets one made at its first send; the API never showed that one, so the
first PATCH that sets a webhook_url shows it, and `POST .../webhook_secret` replaces it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from adaccounts.models import Team
from notifications.signing import new_secret

logger = logging.getLogger(__name__)


def team_webhook_set(*, team: Team, webhook_url: str) -> tuple[Team, str | None]:
    """Set the team's `webhook_url` ("" clears it; checked by the caller, see
    `notifications.targets.webhook_url_clean`). Returns the team and, when this call is the
    one that shows the secret, the secret (else None)."""
    with transaction.atomic():
        # Locked: of two concurrent first PATCHes only one shows the secret.
        team = Team.objects.select_for_update().get(pk=team.pk)
        now = timezone.now()
        team.webhook_url = webhook_url
        team.updated_at = now
        fields = ["webhook_url", "updated_at"]
        shown = None
        if webhook_url and team.webhook_secret_shown_at is None:
            if team.webhook_secret is None:
                team.webhook_secret = new_secret()
                fields.append("webhook_secret")
            team.webhook_secret_shown_at = now
            fields.append("webhook_secret_shown_at")
            shown = team.webhook_secret
        team.save(update_fields=fields)
    logger.info("Team %s webhook %s", team.pk, "set" if webhook_url else "cleared")
    return team, shown


def team_webhook_secret_rotate(*, team: Team) -> str:
    """Replace the team's secret with a new one and return it (shown once, by the caller).
    Deliveries sent from now on are signed with it, retries of older events included."""
    secret = new_secret()
    now = timezone.now()
    Team.objects.filter(pk=team.pk).update(
        webhook_secret=secret, webhook_secret_shown_at=now, updated_at=now
    )
    logger.info("Team %s webhook secret replaced", team.pk)
    return secret


def team_webhook_secret_for_send(*, team_id: Any) -> str:
    """The secret a delivery of the team is signed with, made now if the team has none (a
    callback of a team that never set a webhook)."""
    secrets = Team.objects.filter(pk=team_id).values_list("webhook_secret", flat=True)
    secret = secrets.first()
    if secret is None:
        # Conditional: of two first sends at once, one secret wins and both sign with it.
        Team.objects.filter(pk=team_id, webhook_secret__isnull=True).update(
            webhook_secret=new_secret()
        )
        secret = secrets.first()
        logger.info("Team %s had no webhook secret; one was made for a callback", team_id)
    assert secret is not None
    return secret


def team_webhook_secrets_reencrypt() -> int:
    """Re-encrypt every team's webhook secret under the newest key of `FERNET_KEYS` (a key
    rotation, beside the credentials'). Returns the number of secrets rewritten."""
    count = 0
    teams = Team.objects.filter(webhook_secret__isnull=False).order_by("pk")
    for pk in list(teams.values_list("pk", flat=True)):
        with transaction.atomic():
            # Locked while re-read and rewritten: a concurrent rotation of the secret either
            # committed before (and is what gets re-encrypted) or waits for this one.
            secret = (
                Team.objects.select_for_update()
                .filter(pk=pk)
                .values_list("webhook_secret", flat=True)
                .first()
            )
            if secret is None:
                continue
            Team.objects.filter(pk=pk).update(webhook_secret=secret)
        count += 1
    logger.info("Re-encrypted %d team webhook secrets under the newest key", count)
    return count
