"""API tokens in the admin: who has one and since when, and revoking it; never the key.

DRF's own token admin lists every key (``list_display = ("key", ...)``) and names each token by
its key everywhere Django prints an object: page titles, breadcrumbs, history, the delete
confirmation of a token or of its user, messages and the admin log's ``object_repr`` (stored).
A key is a user's password to the API, so here it is replaced by an admin that shows none, and
the model's ``__str__`` by one that names the token's user instead.

Tokens are made by ``manage.py create_api_user``, which prints the key once; the admin cannot
add one (nobody could see its key) nor change one (a key is replaced by a new token).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import Token, TokenProxy


def _token_str(token: Token) -> str:
    # The user's id, not the user: __str__ must not cost a query per row.
    return f"API token of user {token.user_id}"


# Token and TokenProxy (a subclass) alike, wherever Django or a log line names a token.
Token.__str__ = _token_str  # type: ignore[method-assign,assignment]


class ApiTokenAdmin(TokenAdmin):
    list_display = ("user", "created")
    fields = ("user", "created")
    readonly_fields = ("user", "created")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Token | None = None) -> bool:
        return False


if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
admin.site.register(TokenProxy, ApiTokenAdmin)
