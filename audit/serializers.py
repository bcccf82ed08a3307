"""The audit trail's API shape: events are only ever read."""

from __future__ import annotations

from rest_framework import serializers

from audit.models import AuditEvent


class FieldChangeSerializer(serializers.Serializer):
    """One field's change. A credential's values never appear: only markers ("<set>",
    "<changed>") or null."""

    before = serializers.JSONField(help_text="Any JSON value, null included.")
    after = serializers.JSONField(help_text="Any JSON value, null included.")

    class Meta:
        ref_name = "AuditFieldChange"


class AuditEventSerializer(serializers.ModelSerializer):
    """An event, as `GET /api/v1/audit_events` lists it. Output only."""

    actor = serializers.CharField(read_only=True, help_text='"user:<username>" or "system".')
    action = serializers.CharField(
        read_only=True, help_text="<object_type>.<verb>, e.g. ad_set.updated."
    )
    object_id = serializers.UUIDField(read_only=True, help_text="Ours, not the platform's ID.")
    ad_account_id = serializers.UUIDField(read_only=True, allow_null=True)
    changes = serializers.DictField(
        read_only=True,
        child=FieldChangeSerializer(),
        help_text='By API field name: {"<field>": {"before": ..., "after": ...}}.',
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "ad_account_id",
            "changes",
        ]
        read_only_fields = fields
