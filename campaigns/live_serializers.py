"""Live object API shapes: campaigns, ad sets and ads as they stand (output), and the documented
bodies of the requests that change them (input is validated by the platform's validators in
`campaigns.live`, never by these).

Plain serializers with their fields spelled out, rendered through `mojito.api.shared_serializer`
(see `campaigns.serializers`). The budget, bid and schedule fields are the API's (API.md "Live
objects": "as on submission"), but their values live in the platform's detail row
(`campaign.meta`): rather than name a platform here, those fields are declared with
`_detail(...)` and read off whatever detail row the object has (`platform_details`), as null
when it has none or the platform has no such field.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.fields import SkipField

from campaigns.live_selectors import platform_details
from campaigns.models import CHANGE_FIELDS
from mojito.api import shared_serializer
from mojito.openapi import JSONObjectField
from notifications.serializers import callback_url_field
from platforms.base import PlatformType
from platforms.registry import submission_platforms

# --- Output ---------------------------------------------------------------------------------


class BlankAsNullCharField(serializers.CharField):
    """A text column whose "" means "not known yet" (effective_status before the first sync)."""

    def to_representation(self, value: Any) -> str | None:
        return str(value) or None


def _detail(field: serializers.Field) -> serializers.Field:
    """A field read off the object's platform detail row rather than the row itself."""
    field.from_details = True  # type: ignore[attr-defined]
    return field


class _LiveSerializer(serializers.Serializer):
    """Renders its `_detail` fields from the object's platform detail row, the rest from the
    row."""

    # Derived from the declared fields (the bound copies DRF makes do not keep the mark).
    detail_fields: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.detail_fields = frozenset(
            name
            for name, field in cls._declared_fields.items()
            if getattr(field, "from_details", False)
        )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # DRF's loop, reading each field off the row or its detail row. State stays in locals:
        # the shared instance renders for every thread at once.
        details = platform_details(instance) if self.detail_fields else None
        data: dict[str, Any] = {}
        for field in self._readable_fields:
            source = details if field.field_name in self.detail_fields else instance
            if source is None:
                data[field.field_name] = None
                continue
            try:
                attribute = field.get_attribute(source)
            except SkipField:
                continue
            data[field.field_name] = (
                None if attribute is None else field.to_representation(attribute)
            )
        return data


class _LiveObjectSerializer(_LiveSerializer):
    id = serializers.UUIDField(read_only=True)
    platform_id = serializers.CharField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text="ACTIVE, PAUSED or ARCHIVED.")
    effective_status = BlankAsNullCharField(
        read_only=True,
        allow_null=True,
        help_text="The platform's (Meta: IN_PROCESS, ACTIVE, DISAPPROVED, WITH_ISSUES...); "
        "null until first read from it.",
    )
    review_feedback = JSONObjectField(
        read_only=True, allow_null=True, help_text="The platform's reasons (a disapproved ad)."
    )
    issues = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        allow_null=True,
        help_text="What the platform says hampers delivery (Meta's issues_info: level, "
        "error_code, error_summary, error_message...); null when it names none.",
    )
    synced_at = serializers.DateTimeField(read_only=True, allow_null=True)
    job_id = serializers.UUIDField(read_only=True, help_text="The job that created it.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class LiveCreativeSerializer(_LiveSerializer):
    id = serializers.UUIDField(read_only=True)
    platform_id = serializers.CharField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    effective_status = BlankAsNullCharField(read_only=True, allow_null=True)
    is_existing = serializers.BooleanField(
        read_only=True, help_text="Named by the client by ID; mojito did not create it."
    )


class LiveAdSerializer(_LiveObjectSerializer):
    ad_set_id = serializers.UUIDField(read_only=True)
    campaign_id = serializers.UUIDField(source="ad_set.campaign_id", read_only=True)
    creative = LiveCreativeSerializer(read_only=True)


class LiveAdDetailSerializer(LiveAdSerializer):
    ad_account_id = serializers.UUIDField(source="ad_set.campaign.ad_account_id", read_only=True)
    platform_type = serializers.ChoiceField(choices=PlatformType.choices, read_only=True)


def _money() -> serializers.Field:
    return _detail(
        serializers.IntegerField(
            read_only=True, allow_null=True, help_text="In the account currency's minor unit."
        )
    )


def _text() -> serializers.Field:
    return _detail(serializers.CharField(read_only=True, allow_null=True))


def _json() -> serializers.Field:
    return _detail(JSONObjectField(read_only=True, allow_null=True))


def _time() -> serializers.Field:
    return _detail(serializers.DateTimeField(read_only=True, allow_null=True))


def _names() -> serializers.Field:
    return _detail(
        serializers.ListField(child=serializers.CharField(), read_only=True, allow_null=True)
    )


class LiveAdSetSerializer(_LiveObjectSerializer):
    """An ad set with its ads."""

    campaign_id = serializers.UUIDField(read_only=True)
    daily_budget = _money()
    lifetime_budget = _money()
    bid_amount = _money()
    bid_strategy = _text()
    billing_event = _text()
    optimization_goal = _text()
    start_time = _time()
    end_time = _time()
    targeting = _json()
    promoted_object = _json()
    destination_type = _text()
    dsa_beneficiary = _text()
    dsa_payor = _text()
    extra_params = _json()
    ads = LiveAdSerializer(many=True, read_only=True)


class LiveAdSetDetailSerializer(LiveAdSetSerializer):
    ad_account_id = serializers.UUIDField(source="campaign.ad_account_id", read_only=True)
    platform_type = serializers.ChoiceField(choices=PlatformType.choices, read_only=True)


class LiveCampaignSerializer(_LiveObjectSerializer):
    """A campaign without its tree (list rows)."""

    ad_account_id = serializers.UUIDField(read_only=True)
    platform_type = serializers.ChoiceField(choices=PlatformType.choices, read_only=True)
    objective = _text()
    special_ad_categories = _names()
    special_ad_category_country = _names()
    buying_type = _text()
    bid_strategy = _text()
    daily_budget = _money()
    lifetime_budget = _money()
    spend_cap = _money()
    is_adset_budget_sharing_enabled = _detail(
        serializers.BooleanField(read_only=True, allow_null=True)
    )
    extra_params = _json()


class LiveCampaignDetailSerializer(LiveCampaignSerializer):
    """A campaign with its ad sets, their ads and creatives, in position order."""

    ad_sets = LiveAdSetSerializer(many=True, read_only=True)


def live_data(serializer_class: type[serializers.Serializer], obj: Any) -> dict[str, Any]:
    """`serializer_class(obj).data`, rendered by the process's shared field tree."""
    return shared_serializer(serializer_class).to_representation(obj)


# --- Documented request bodies --------------------------------------------------------------


def _optional(field: serializers.Field) -> serializers.Field:
    """A submission field as a PATCH takes it: a new one, neither required nor defaulted. Made
    from the field's own arguments, as DRF copies declared fields into every serializer."""
    kwargs = {key: value for key, value in field._kwargs.items() if key != "default"}
    kwargs["required"] = False
    return type(field)(*copy.deepcopy(field._args), **copy.deepcopy(kwargs))


def _levels(request_serializer: type[serializers.Serializer]) -> dict[str, serializers.Field]:
    """The submission's campaign, ad set and ad serializers, and its lists of ad sets and ads."""
    request = request_serializer()
    ad_sets = request.fields["ad_sets"]
    ads = ad_sets.child.fields["ads"]
    return {
        "campaign": request.fields["campaign"],
        "ad_set": ad_sets.child,
        "ad": ads.child,
        "ad_sets": ad_sets,
        "ads": ads,
    }


def _change_body(level: serializers.Serializer, object_type: str) -> type[serializers.Serializer]:
    """The submission's own level class minus the fields a PATCH cannot change: the document
    then names and closes it as the platform's schema extensions do for the submission."""
    base = type(level)
    keep = CHANGE_FIELDS[object_type]
    attrs: dict[str, Any] = {name: None for name in level.fields if name not in keep}
    attrs.update({name: _optional(level.fields[name]) for name in keep})
    attrs["callback_url"] = callback_url_field()
    attrs["__module__"] = __name__
    label = object_type.replace("_", " ")
    attrs["__doc__"] = (
        f"A change of a live {label}: only the fields given change, under the rules of the "
        "submission; the platform's limits on changing what exists apply too."
    )
    name = base.__name__.removesuffix("Serializer")
    return type(f"{name}ChangeSerializer", (base,), attrs)


def _additions_body(
    platform_type: PlatformType, key: str, items: serializers.Field
) -> type[serializers.Serializer]:
    label = platform_type.label.replace(" ", "")
    name = f"{label}{key.title().replace('_', '')}Additions"
    return type(
        f"{name}Serializer",
        (serializers.Serializer,),
        {
            key: copy.deepcopy(items),
            "callback_url": callback_url_field(),
            "__module__": __name__,
            "Meta": type("Meta", (), {"ref_name": name}),
        },
    )


def _per_platform(component: str, bodies: list[type[serializers.Serializer]]) -> Any:
    if len(bodies) == 1:
        return bodies[0]
    return PolymorphicProxySerializer(
        component_name=component, serializers=bodies, resource_type_field_name=None
    )


def change_request_body(object_type: str) -> Any:
    """The documented body of `PATCH` on a live object of `object_type`."""
    bodies = [
        _change_body(_levels(serializer)[object_type], object_type)
        for _, serializer in submission_platforms()
    ]
    return _per_platform(f"{object_type.title().replace('_', '')}Change", bodies)


def additions_request_body(key: str) -> Any:
    """The documented body of `POST .../campaigns/{id}/ad_sets` (key "ad_sets") or
    `POST .../ad_sets/{id}/ads` (key "ads")."""
    bodies = [
        _additions_body(platform_type, key, _levels(serializer)[key])
        for platform_type, serializer in submission_platforms()
    ]
    return _per_platform(f"{key.title().replace('_', '')}Additions", bodies)


class CampaignImportRequestSerializer(serializers.Serializer):
    """The body of `POST /api/v1/campaigns/import`."""

    ad_account_id = serializers.CharField(
        help_text="Our UUID of the ad account, or the platform's ID (Meta: act_<digits>)."
    )
    platform_id = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,64}$", help_text="The platform's campaign ID (Meta: digits)."
    )
    platform_type = serializers.ChoiceField(
        choices=PlatformType.choices, required=False, default=PlatformType.META
    )
    callback_url = callback_url_field()
