"""The audit trail in the admin: read-only for everyone (no add, change or delete, whatever
the user's permissions), and a short "recent changes" list other admin pages embed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from adaccounts.selectors import team_list_member_of
from audit.models import AuditEvent
from audit.selectors import audit_event_list_for_objects

RECENT_CHANGES = 10
# A change's values are cut here in the admin's lists (a targeting is long); the event's own
# page shows them whole.
_SHOWN_CHARS = 80


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _summary(event: AuditEvent) -> SafeString:
    return format_html_join(
        "; ",
        "{}: {} → {}",
        (
            (name, _shown(change.get("before")), _shown(change.get("after")))
            for name, change in sorted(event.changes.items())
            if isinstance(change, dict)
        ),
    )


def recent_changes(object_ids: Iterable[Any], *, search: Any) -> SafeString:
    """The latest events of these objects as a small table, with a link to all events found
    by `search` (an object id). For the read-only fields of other admin pages."""
    events = list(audit_event_list_for_objects(object_ids=list(object_ids))[:RECENT_CHANGES])
    link = format_html(
        '<a href="{}?q={}">All events</a>', reverse("admin:audit_auditevent_changelist"), search
    )
    if not events:
        return format_html("No changes recorded yet. {}", link)
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, _summary(e)) for e in events),
    )
    return format_html(
        "<table><thead><tr><th>at (UTC)</th><th>actor</th><th>action</th><th>changes</th>"
        "</tr></thead><tbody>{}</tbody></table>{}",
        rows,
        link,
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "changes_summary"]
    list_filter = ["action", "object_type", "actor"]
    search_fields = ["=object_id"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    fields = [
        "id",
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "ad_account_id",
        "team_id",
        "changes_pretty",
    ]
    readonly_fields = fields

    # --- append-only: nobody adds, changes or deletes an event here -------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    # --- reading ---------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        events = super().get_queryset(request)
        if request.user.is_superuser:
            return events
        # Staff of one team read their teams' events only, as in the API.
        return events.filter(team_id__in=team_list_member_of(user=request.user).values("id"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            # Also an ad account's id: its events, and those of its jobs and objects.
            object_id = uuid.UUID(term)
        except ValueError:
            return queryset.none(), False  # only ids are searched
        return queryset.filter(object_id=object_id) | queryset.filter(
            ad_account_id=object_id
        ), False

    @admin.display(description="changes")
    def changes_summary(self, event: AuditEvent) -> SafeString:
        return _summary(event)

    @admin.display(description="changes")
    def changes_pretty(self, event: AuditEvent) -> SafeString:
        return format_html(
            '<pre style="white-space: pre-wrap">{}</pre>',
            json.dumps(event.changes, indent=2, sort_keys=True, ensure_ascii=False, default=str),
        )
