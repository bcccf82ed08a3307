"""Ad account API shapes: one serializer reads input, another writes output.

Credentials only ever travel inward: the output serializer has `has_credentials` and nothing
else about them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import SkipField

from adaccounts.models import AdAccount, AdAccountStatus, Team
from adaccounts.selectors import team_list_for_user, team_list_member_of
from adaccounts.services import DUPLICATE_ACCOUNT_MESSAGE
from adaccounts.validators import (
    OWNER_OUTSIDE_TEAM_MESSAGE,
    live_duplicate_exists,
    owner_outside_team,
    validate_additional_config,
)
from mojito.openapi import JSONObjectField
from notifications.targets import webhook_url_clean
from platforms.base import PlatformType, VerifyResult
from platforms.registry import get_account_spec

# Fields a client may echo back from a GET without it being an error.
_READ_ONLY_ECHO = {"id", "has_credentials", "created_at", "updated_at"}


class PlatformErrorSerializer(serializers.Serializer):
    """The schema of a platform's error as jobs and verifications store it (`MetaError`)."""

    message = serializers.CharField()
    code = serializers.IntegerField(allow_null=True)
    subcode = serializers.IntegerField(allow_null=True)
    type = serializers.CharField(allow_null=True)
    fbtrace_id = serializers.CharField(allow_null=True)
    user_title = serializers.CharField(allow_null=True)
    user_message = serializers.CharField(allow_null=True)
    transient = serializers.BooleanField()
    step = serializers.CharField(
        help_text="Where it happened: the request path of the object (ad_sets.0, ad_sets.0.ads.1),"
        " media, video, batch, ..."
    )

    class Meta:
        ref_name = "PlatformError"


@extend_schema_field(PlatformErrorSerializer(required=False))
class PlatformErrorField(serializers.JSONField):
    """A stored platform error, rendered as stored; typed in the document."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": 'The platform\'s credentials, e.g. for Meta {"access_token": "...", '
        '"app_secret": "..."} (app_secret optional). Write-only.',
    }
)
class CredentialsField(serializers.JSONField):
    """Credentials as the input serializer reads them (the platform's spec checks them)."""


class TeamSerializer(serializers.ModelSerializer):
    """A team. Its webhook secret never appears: only whether it has one."""

    webhook_url = serializers.SerializerMethodField(
        help_text="Where the team's webhook events go; null for nowhere."
    )
    has_webhook_secret = serializers.BooleanField(read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "webhook_url", "has_webhook_secret"]

    def get_webhook_url(self, team: Team) -> str | None:
        return team.webhook_url or None


class _ShownSecretField(serializers.CharField):
    """The secret a PATCH shows, from the serializer's context: never read off the team (whose
    `webhook_secret` attribute holds the current secret, decrypted), and left out when the
    context has none."""

    def get_attribute(self, instance: Any) -> Any:
        secret = self.context.get("webhook_secret")
        if secret is None:
            raise SkipField
        return secret


class TeamUpdateAnswerSerializer(TeamSerializer):
    """The answer of `PATCH /api/v1/teams/{id}`: the team, and the secret when this PATCH is
    the one that shows it (`context["webhook_secret"]`)."""

    # Not read-only, so that the document does not call it required (it is mostly absent).
    webhook_secret = _ShownSecretField(
        required=False,
        help_text="Only in the answer of the PATCH that first sets a webhook_url: the secret "
        "that signs every delivery, shown this once.",
    )

    class Meta(TeamSerializer.Meta):
        fields = [*TeamSerializer.Meta.fields, "webhook_secret"]


class TeamUpdateSerializer(serializers.Serializer):
    """The body of `PATCH /api/v1/teams/{id}` (what a GET shows may be echoed; it is ignored)."""

    webhook_url = serializers.CharField(
        max_length=2048,
        allow_null=True,
        allow_blank=True,
        help_text='http(s), public addresses only (the rules of media URLs); null or "" clears it.',
    )

    _ECHO = frozenset({"id", "name", "has_webhook_secret"})

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields) - self._ECHO)
        if unknown:
            raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)

    def validate_webhook_url(self, value: str | None) -> str:
        try:
            return webhook_url_clean(value)
        except serializers.ValidationError as exc:
            assert isinstance(exc.detail, dict)
            raise serializers.ValidationError(exc.detail["webhook_url"]) from None


class WebhookSecretSerializer(serializers.Serializer):
    """The answer of `POST /api/v1/teams/{id}/webhook_secret`: the new secret, shown once."""

    webhook_secret = serializers.CharField(read_only=True)


class AdAccountSerializer(serializers.ModelSerializer):
    """What the API returns for an ad account."""

    team_id = serializers.UUIDField(read_only=True)
    owner_user_id = serializers.IntegerField(read_only=True, allow_null=True)
    has_credentials = serializers.BooleanField(read_only=True)
    additional_config = JSONObjectField(read_only=True)

    class Meta:
        model = AdAccount
        fields = [
            "id",
            "platform_account_id",
            "name",
            "platform_type",
            "has_credentials",
            "status",
            "team_id",
            "owner_user_id",
            "additional_config",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AdAccountInputSerializer(serializers.Serializer):
    """Validates a create (POST), replace (PUT) or partial update (PATCH).

    Needs `context["request"]` for the caller's teams. Every bad field is reported at once: the
    platform-dependent checks run as field validators, which DRF collects together.
    """

    platform_account_id = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255)
    platform_type = serializers.ChoiceField(choices=PlatformType.choices)
    credentials = CredentialsField(write_only=True, required=False)
    status = serializers.ChoiceField(
        choices=AdAccountStatus.choices, default=AdAccountStatus.ACTIVE
    )
    team_id = serializers.UUIDField(required=False)
    owner_user_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    additional_config = JSONObjectField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is None:
            # An account is useless without credentials; on updates omitting them keeps them.
            self.fields["credentials"].required = True
        else:
            # PUT replaces the account; a missing status must not silently reset it to ACTIVE.
            self.fields["status"].default = serializers.empty
            self.fields["status"].required = not self.partial

    # --- helpers ---------------------------------------------------------------------------

    @property
    def _user(self) -> Any:
        return self.context["request"].user

    def _platform_type(self) -> str | None:
        """The platform the other fields are checked against, if it is known and valid."""
        data = self.initial_data if isinstance(self.initial_data, Mapping) else {}
        raw = data.get("platform_type", getattr(self.instance, "platform_type", None))
        return raw if raw in PlatformType.values else None

    @cached_property
    def _default_team(self) -> Team | None:
        # Memberships, not reach: a superuser may use any team but belongs to few.
        teams = list(team_list_member_of(user=self._user)[:2])
        return teams[0] if len(teams) == 1 else None

    # --- whole-body checks -----------------------------------------------------------------

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        errors: dict[str, Any] = {
            key: ["Unknown field."]
            for key in sorted(set(data) - set(self.fields) - _READ_ONLY_ECHO)
        }
        if self.instance is None and "team_id" not in data and self._default_team is None:
            errors["team_id"] = [
                "Required: you belong to several teams (or none), so name the team."
            ]
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            assert isinstance(exc.detail, dict)
            raise serializers.ValidationError({**exc.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    # --- field checks ----------------------------------------------------------------------

    def validate_platform_type(self, value: str) -> str:
        if self.instance is not None and value != self.instance.platform_type:
            raise serializers.ValidationError(
                "The platform of an existing account cannot be changed.", code="immutable"
            )
        return value

    def validate_platform_account_id(self, value: str) -> str:
        platform_type = self._platform_type()
        if platform_type is None:
            return value  # platform_type carries the error
        return get_account_spec(platform_type).normalize_account_id(value)

    def validate_credentials(self, value: Any) -> dict[str, str]:
        platform_type = self._platform_type()
        if platform_type is None:
            return value
        return get_account_spec(platform_type).clean_credentials(value)

    def validate_team_id(self, value: Any) -> Team:
        team = team_list_for_user(user=self._user).filter(pk=value).first()
        if team is None:
            # Same answer for a team that does not exist and one the caller is not in.
            raise serializers.ValidationError("Unknown team.", code="does_not_exist")
        return team

    def validate_owner_user_id(self, value: int | None) -> Any:
        if value is None:
            return None
        user = get_user_model().objects.filter(pk=value).first()
        if user is None:
            raise serializers.ValidationError("Unknown user.", code="does_not_exist")
        return user

    def validate_additional_config(self, value: Any) -> dict[str, Any]:
        return validate_additional_config(value)

    # --- cross-field checks ----------------------------------------------------------------

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given_team = attrs.pop("team_id", None)
        team = given_team or (self.instance.team if self.instance else None)
        team = team or self._default_team
        if given_team is not None or self.instance is None:
            # An update writes the team only when the client names one; otherwise the account
            # keeps whatever team the database has by then.
            attrs["team"] = team
        errors: dict[str, Any] = {}

        if "owner_user_id" in attrs:
            owner = attrs.pop("owner_user_id")
            if owner_outside_team(owner, team):
                errors["owner_user_id"] = OWNER_OUTSIDE_TEAM_MESSAGE
            attrs["owner_user"] = owner

        if self.instance is not None:
            attrs.pop("platform_type", None)  # validated unchanged above
        platform_type = attrs.get("platform_type") or self.instance.platform_type
        account_id = attrs.get("platform_account_id")
        if account_id is not None and live_duplicate_exists(
            platform_type=platform_type,
            account_id=account_id,
            exclude_pk=self.instance.pk if self.instance is not None else None,
        ):
            errors["platform_account_id"] = ErrorDetail(DUPLICATE_ACCOUNT_MESSAGE, code="unique")

        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AdAccountReplaceSerializer(AdAccountInputSerializer):
    """The document's body of a PUT (the view validates with AdAccountInputSerializer and the
    account): credentials may be left out, which keeps them, and status has no default, so
    that a missing one never resets the account to ACTIVE."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["credentials"].required = False
        self.fields["status"].default = serializers.empty
        self.fields["status"].required = True


class AdAccountVerifySerializer(serializers.Serializer):
    """What a verification learned. Field names follow Meta's account fields."""

    verified = serializers.BooleanField()
    status = serializers.ChoiceField(choices=AdAccountStatus.choices)
    name = serializers.CharField(allow_null=True)
    account_status = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    timezone_name = serializers.CharField(allow_null=True)
    timezone = serializers.CharField(allow_null=True, help_text="Same as timezone_name.")
    error = PlatformErrorField(allow_null=True)
    ad_account = AdAccountSerializer()

    @classmethod
    def from_result(cls, account: AdAccount, result: VerifyResult) -> dict[str, Any]:
        details = result.details
        return cls(
            {
                "verified": result.verified,
                "status": account.status,
                "name": details.get("name"),
                "account_status": details.get("account_status"),
                "currency": details.get("currency"),
                "timezone_name": details.get("timezone_name"),
                "timezone": details.get("timezone_name"),
                "error": result.error,
                "ad_account": account,
            }
        ).data
