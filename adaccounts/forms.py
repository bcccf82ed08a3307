"""Admin forms. Ops staff type tokens in; nothing here ever renders one back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django_json_widget.widgets import JSONEditorWidget
from rest_framework.exceptions import ValidationError as DRFValidationError

from adaccounts.models import AdAccount
from adaccounts.services import DUPLICATE_ACCOUNT_MESSAGE
from adaccounts.validators import (
    OWNER_OUTSIDE_TEAM_MESSAGE,
    live_duplicate_exists,
    owner_outside_team,
    validate_additional_config,
)
from platforms.base import PlatformType
from platforms.registry import get_account_spec

# Write-only form fields that together make up `AdAccount.credentials`.
CREDENTIAL_FIELDS = ("access_token", "app_secret")

# What an account's credentials are called in the admin's history ("Changed credentials.").
CREDENTIALS_LABEL = "credentials"


def _messages(detail: Any) -> list[str]:
    """Flatten a DRF error detail (string, list or dict of them) into plain messages."""
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


def _write_only_input(help_text: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        strip=True,
        help_text=help_text,
        # render_value=False: not even a re-displayed form after an error carries the value.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class AdAccountAdminForm(forms.ModelForm):
    """Edits an ad account the way the API does: the platform's spec normalises the account ID
    and checks the credentials, and the services write (see `AdAccountAdmin.save_model`).

    `credentials` itself is not a form field: `access_token` and `app_secret` are write-only
    inputs; left blank on a change they keep what is stored, filled in they replace it.
    """

    access_token = _write_only_input(
        "Write-only: never shown again. On an existing account, leave both credential fields "
        "blank to keep the stored credentials; fill in the access token to replace them."
    )
    app_secret = _write_only_input(
        "Write-only, optional. Replaced (or removed, if blank) together with the access token."
    )

    # The validated credentials to store; None keeps the stored ones. Set by clean().
    new_credentials: dict[str, str] | None = None

    class Meta:
        model = AdAccount
        fields = [
            "platform_type",
            "platform_account_id",
            "name",
            "team",
            "owner_user",
            "status",
            "additional_config",
        ]
        widgets = {"additional_config": JSONEditorWidget(height="240px")}

    # --- helpers ---------------------------------------------------------------------------

    def _platform_type(self) -> str | None:
        """The platform the other fields are checked against, if it is known and valid."""
        if self.instance._state.adding:
            value = self.cleaned_data.get("platform_type")
        else:
            value = self.instance.platform_type  # immutable: read-only in the admin
        return value if value in PlatformType.values else None

    @property
    def changed_data(self) -> list[str]:
        # The history (LogEntry) names changed fields by label; the credential inputs are
        # logged as one "credentials" entry. Their values never reach the history.
        changed = [name for name in super().changed_data if name not in CREDENTIAL_FIELDS]
        if self.new_credentials is not None:
            changed.append(CREDENTIALS_LABEL)
        return changed

    # --- field checks ----------------------------------------------------------------------

    def clean_additional_config(self) -> dict[str, Any]:
        value = self.cleaned_data.get("additional_config")
        return {} if value is None else validate_additional_config(value)

    # --- cross-field checks ----------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Here rather than in clean_platform_account_id(): it needs platform_type, whatever
        # order the admin's fieldsets put the fields in.
        self._clean_account_id(cleaned)
        self._clean_credentials(cleaned)
        self._check_owner_in_team(cleaned)
        self._check_duplicate(cleaned)
        return cleaned

    def _clean_account_id(self, cleaned: dict[str, Any]) -> None:
        platform_type, value = self._platform_type(), cleaned.get("platform_account_id")
        if platform_type is None or value is None:
            return  # platform_type or platform_account_id carries the error
        try:
            cleaned["platform_account_id"] = get_account_spec(platform_type).normalize_account_id(
                value
            )
        except DRFValidationError as exc:
            self.add_error("platform_account_id", _messages(exc.detail))

    def _clean_credentials(self, cleaned: dict[str, Any]) -> None:
        given = {name: cleaned[name] for name in CREDENTIAL_FIELDS if cleaned.get(name)}
        if not given and not self.instance._state.adding:
            return  # blank on a change: keep the stored credentials
        platform_type = self._platform_type()
        if platform_type is None:
            return
        try:
            self.new_credentials = get_account_spec(platform_type).clean_credentials(given)
        except DRFValidationError as exc:
            detail = exc.detail
            if not isinstance(detail, dict):
                detail = {None: detail}
            for name, errors in detail.items():
                field = name if name in CREDENTIAL_FIELDS else None
                self.add_error(field, _messages(errors))

    def _check_owner_in_team(self, cleaned: dict[str, Any]) -> None:
        if owner_outside_team(cleaned.get("owner_user"), cleaned.get("team")):
            self.add_error("owner_user", OWNER_OUTSIDE_TEAM_MESSAGE)

    def _check_duplicate(self, cleaned: dict[str, Any]) -> None:
        platform_type, account_id = self._platform_type(), cleaned.get("platform_account_id")
        if platform_type is None or account_id is None or self.instance.is_deleted:
            return  # deleted accounts may share an ID with a live one
        if live_duplicate_exists(
            platform_type=platform_type,
            account_id=account_id,
            exclude_pk=None if self.instance._state.adding else self.instance.pk,
        ):
            self.add_error(
                "platform_account_id", ValidationError(DUPLICATE_ACCOUNT_MESSAGE, code="unique")
            )
