"""Admin for ops staff: teams and ad accounts.

Tokens go in through write-only inputs and never come back out: not on a form, in a list, in
the history or on a delete confirmation. Writes go through `adaccounts.services`, so the admin
applies the same rules as the API, and deleting an account is a soft delete.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.views.decorators.debug import sensitive_post_parameters

from adaccounts import admin_tokens  # noqa: F401 (API tokens, without their keys)
from adaccounts.forms import CREDENTIAL_FIELDS, AdAccountAdminForm
from adaccounts.models import AdAccount, Team
from adaccounts.services import (
    ad_account_create,
    ad_account_delete,
    ad_account_update,
    ad_account_verify,
)
from audit.admin import recent_changes
from platforms.registry import PlatformNotSupported

# Django's error reports (DEBUG page, admin e-mails) list POST data; never the tokens.
_hide_credentials = method_decorator(sensitive_post_parameters(*CREDENTIAL_FIELDS))


# Form fields that ad_account_update() takes (the platform of an account never changes).
_UPDATABLE_FIELDS = set(AdAccountAdminForm.Meta.fields) - {"platform_type"}


class _SaveRejected(Exception):
    """A service refused a save that the form had accepted (a duplicate created meanwhile)."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error)
        self.error = error


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("no", "Live only"), ("yes", "Deleted only")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(AdAccount)
class AdAccountAdmin(admin.ModelAdmin):
    form = AdAccountAdminForm
    list_display = [
        "name",
        "platform_type",
        "platform_account_id",
        "status",
        "team",
        "has_credentials",
        "updated_at",
        "deleted_at",
    ]
    list_filter = ["platform_type", "status", "team", DeletedFilter]
    search_fields = ["name", "platform_account_id", "team__name"]
    list_select_related = ["team"]
    ordering = ["-updated_at"]
    autocomplete_fields = ["team", "owner_user"]
    readonly_fields = [
        "id",
        "has_credentials",
        "created_at",
        "updated_at",
        "deleted_at",
        "recent_changes",
    ]
    actions = ["verify_accounts"]

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description="Verify credentials with the platform")
    def verify_accounts(self, request: HttpRequest, queryset: QuerySet[AdAccount]) -> None:
        for account in queryset.filter(deleted_at__isnull=True):
            try:
                result = ad_account_verify(account=account, actor=request.user)
            except PlatformNotSupported:
                self.message_user(
                    request, f"{account}: verification is not available yet.", messages.WARNING
                )
                continue
            if result.verified:
                name = result.details.get("name") or "?"
                self.message_user(
                    request,
                    f"{account}: verified ({name}); status {account.status}.",
                    messages.SUCCESS,
                )
            else:
                message = (result.error or {}).get("message") or "no answer"
                self.message_user(
                    request,
                    f"{account}: not verified ({message}); status {account.status}.",
                    messages.ERROR,
                )

    # --- display ---------------------------------------------------------------------------

    @admin.display(boolean=True, description="Has credentials")
    def has_credentials(self, obj: AdAccount) -> bool:
        return obj.has_credentials

    def get_fieldsets(self, request: HttpRequest, obj: AdAccount | None = None) -> list:
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (
                None,
                {
                    "fields": [
                        "platform_type",
                        "platform_account_id",
                        "name",
                        "team",
                        "owner_user",
                        "status",
                    ]
                },
            ),
            ("Credentials", {"fields": [*CREDENTIAL_FIELDS, "has_credentials"]}),
            ("Configuration", {"fields": ["additional_config"]}),
        ]
        if obj is not None:
            fieldsets.append(
                ("Record", {"fields": ["id", "created_at", "updated_at", "deleted_at"]})
            )
            fieldsets.append(("Recent changes", {"fields": ["recent_changes"]}))
        return fieldsets

    @admin.display(description="Recent changes")
    def recent_changes(self, obj: AdAccount) -> SafeString:
        # The account's own events (credentials only as changed, never a value).
        return recent_changes([obj.pk], search=obj.pk)

    def get_readonly_fields(self, request: HttpRequest, obj: AdAccount | None = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The services (and the API) keep an account on the platform it was created for.
            readonly.insert(0, "platform_type")
        return readonly

    # --- saving ----------------------------------------------------------------------------

    @_hide_credentials
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _SaveRejected as exc:
            # The admin's transaction was rolled back (no history entry either). The form is
            # not shown again with the input, which is fine: this is a rare race.
            for message in exc.error.messages:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(
        self, request: HttpRequest, obj: AdAccount, form: AdAccountAdminForm, change: bool
    ) -> None:
        credentials = form.new_credentials
        try:
            if change:
                changes = {
                    name: form.cleaned_data[name]
                    for name in form.changed_data
                    if name in _UPDATABLE_FIELDS
                }
                if credentials is not None:
                    changes["credentials"] = credentials
                ad_account_update(account=obj, actor=request.user, **changes)
            else:
                account = ad_account_create(
                    team=form.cleaned_data["team"],
                    platform_type=form.cleaned_data["platform_type"],
                    platform_account_id=form.cleaned_data["platform_account_id"],
                    name=form.cleaned_data["name"],
                    credentials=credentials or {},
                    status=form.cleaned_data["status"],
                    owner_user=form.cleaned_data["owner_user"],
                    additional_config=form.cleaned_data["additional_config"],
                    actor=request.user,
                )
                # The service built its own instance: point the admin's one (used for the
                # history entry and the redirect) at the saved row.
                obj.pk = account.pk
                obj.refresh_from_db()
        except ValidationError as exc:
            raise _SaveRejected(exc) from None

    # --- deleting: a soft delete, through the service --------------------------------------

    def has_delete_permission(self, request: HttpRequest, obj: AdAccount | None = None) -> bool:
        if obj is not None and obj.is_deleted:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: AdAccount) -> None:
        ad_account_delete(account=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AdAccount]) -> None:
        for account in queryset.filter(deleted_at__isnull=True):
            ad_account_delete(account=account, actor=request.user)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[list, dict, set, list]:
        # Only the accounts themselves are marked deleted; their jobs and campaigns stay, so
        # the confirmation page lists nothing else (Django's default would list them all).
        opts = self.model._meta
        to_delete = [
            format_html(
                '{}: <a href="{}">{}</a>',
                capfirst(opts.verbose_name),
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
                obj,
            )
            for obj in objs
        ]
        model_count = {opts.verbose_name_plural: len(to_delete)}
        perms_needed = set() if self.has_delete_permission(request) else {opts.verbose_name}
        return to_delete, model_count, perms_needed, []

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            # Keep Django's action (its confirmation page posts back to this name); only the
            # label changes, since delete_queryset() makes it a soft delete.
            func, name, _ = actions["delete_selected"]
            actions[name] = (func, name, "Soft-delete selected ad accounts")
        return actions


class AdAccountInline(admin.TabularInline):
    """The team's ad accounts, read-only; edit one through its own page."""

    model = AdAccount
    fields = ["name", "platform_type", "platform_account_id", "status", "deleted_at"]
    readonly_fields = fields
    ordering = ["name"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "ad_account_count", "webhook_url", "has_webhook_secret"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    ordering = ["name"]
    inlines = [AdAccountInline]
    # The webhook is set through the API (PATCH /api/v1/teams/{id}), whose answer shows the
    # secret once; here it is only shown, and the secret never (not even on the form).
    fields = ["name", "members", "webhook_url", "has_webhook_secret"]
    readonly_fields = ["webhook_url", "has_webhook_secret"]

    @admin.display(boolean=True, description="Has webhook secret")
    def has_webhook_secret(self, obj: Team) -> bool:
        return obj.has_webhook_secret

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                ad_account_count=Count(
                    "ad_accounts",
                    filter=Q(ad_accounts__deleted_at__isnull=True),
                    distinct=True,
                ),
            )
        )

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj: Team) -> int:
        return obj.member_count

    @admin.display(description="Ad accounts (live)", ordering="ad_account_count")
    def ad_account_count(self, obj: Team) -> int:
        return obj.ad_account_count
