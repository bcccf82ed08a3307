"""The admin is for staff only, keeps Django's CSRF check, and never renders a credential.

Credentials are planted as canaries in every model that holds one: an ad account's access
token and app secret (set through the admin's own form, so that its history and the audit
trail see them pass), a team's webhook secret, a user's API token and password. Then every
page of every registered ModelAdmin (changelist with each search, filter, sort and page link
it offers, add, change, delete, history, the bulk-delete confirmation, autocompletes) and the
admin and app indexes are rendered as a superuser, and no body may hold a canary, raw or
encoded (chaos.leaks, the scanner of the end-to-end and chaos runs, plus HTML and URL
escapes). The URLs walked are then tried anonymously and as a non-staff user.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus, urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from rest_framework.authtoken.models import Token

from adaccounts.models import AdAccount, Team
from adaccounts.services import ad_account_update
from chaos.leaks import find_leaks
from notifications.services import team_webhook_set
from notifications.tasks import delivery_send
from tests.factories import AdAccountFactory, TeamFactory, UserFactory, make_caller
from tests.test_webhooks import finish, submit

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct horse battery staple"
# Pages per changelist followed from its links: filters, date drill-down and pages first, then
# sorting (each column's sort link repeats the same rows in another order).
MAX_LINKS_PER_CHANGELIST = 30
OBJECTS_PER_MODEL = 3


def canary(prefix: str) -> str:
    # Characters HTML escapes, so that an escaped rendering is searched for too.
    return f"{prefix}-canary<&>{uuid.uuid4().hex}"


def forms_of(secret: str) -> list[str]:
    return [secret, html.escape(secret), html.escape(secret, quote=False), quote_plus(secret)]


class Canaries:
    def __init__(self) -> None:
        self.access_token = canary("EAAB")
        self.app_secret = canary("appsecret")
        self.new_access_token = canary("EAAB-new")
        self.webhook_secret = canary("whsec")
        self.password = canary("password")
        # DRF's token key is 40 characters of a key column; no escapes needed to find it.
        self.api_token = "c4n4ry" + uuid.uuid4().hex + "01"
        self.all = [
            self.access_token,
            self.app_secret,
            self.new_access_token,
            self.webhook_secret,
            self.password,
            self.api_token,
        ]

    def leaks(self, body: bytes | str, where: str) -> list[str]:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        found: list[str] = []
        for secret in self.all:
            # Raw, hex and base64 (also inside base64 runs) by the shared scanner; the escapes
            # a page or a link would apply, as text.
            found += find_leaks(secret, text, where)
            found += [f"{where}: {form[:12]!r}..." for form in forms_of(secret) if form in text]
        return found


def make_user(**flags: bool) -> Any:
    user = UserFactory(**flags)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def superuser() -> Any:
    return make_user(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_site_client(superuser: Any) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def canaries(admin_site_client: Client, superuser: Any, settings: Any) -> Canaries:
    """Every credential-holding row, with canaries, and the rows around them."""
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True  # the webhook below points nowhere reachable
    c = Canaries()
    caller = make_caller()
    team = caller.team
    # The ad account goes in through the admin form (history entries, audit events).
    response = admin_site_client.post(
        reverse("admin:adaccounts_adaccount_add"),
        {
            "platform_type": "META",
            "platform_account_id": "act_9" + str(uuid.uuid4().int)[:10],
            "name": "Canary advertiser",
            "team": str(team.pk),
            "owner_user": str(caller.user.pk),
            "status": "ACTIVE",
            "additional_config": "{}",
            "access_token": c.access_token,
            "app_secret": c.app_secret,
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    account = AdAccount.objects.get(name="Canary advertiser")
    assert account.credentials == {"access_token": c.access_token, "app_secret": c.app_secret}
    # A credential change through the service (an audit event "credentials changed").
    ad_account_update(
        account=account,
        actor=superuser,
        credentials={"access_token": c.new_access_token, "app_secret": c.app_secret},
    )
    team, _ = team_webhook_set(team=team, webhook_url="http://127.0.0.1:9/hook")
    team.webhook_secret = c.webhook_secret
    team.save(update_fields=["webhook_secret"])
    # A job with a callback, finished: an event, deliveries and a failed attempt.
    job = submit(caller, account, callback_url="http://127.0.0.1:9/job")
    finish(job)
    for delivery in job.webhook_events.first().deliveries.all():
        delivery_send(str(delivery.pk))
    # API tokens and passwords are credentials of users.
    Token.objects.filter(user=caller.user).delete()
    Token.objects.create(user=caller.user, key=c.api_token)
    caller.user.set_password(c.password)
    caller.user.save()
    AdAccountFactory(team=TeamFactory(), credentials={"access_token": c.access_token})
    return c


# --- The walk ------------------------------------------------------------------------------------

_HREF = re.compile(r'href="(\?[^"]*)"')


def _reverse(name: str, *args: Any, **kwargs: Any) -> str | None:
    try:
        return reverse(name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def admin_pages(
    client: Client, max_links: int = MAX_LINKS_PER_CHANGELIST
) -> Iterator[tuple[str, Any]]:
    """(url, response) for every admin page a superuser can reach here."""
    yield "/admin/", client.get("/admin/")
    app_labels = {model._meta.app_label for model in admin.site._registry}
    for app_label in sorted(app_labels):
        url = reverse("admin:app_list", kwargs={"app_label": app_label})
        yield url, client.get(url)
    for model, model_admin in admin.site._registry.items():
        yield from _model_pages(client, model, model_admin, max_links)


def _model_pages(
    client: Client, model: type[Model], model_admin: Any, max_links: int
) -> Iterator[tuple]:
    info = (model._meta.app_label, model._meta.model_name)
    changelist = reverse("admin:{}_{}_changelist".format(*info))
    seen: set[str] = set()
    # Searches for the canaries' own beginnings: a search may not echo what it matched.
    queue = [changelist, *(f"{changelist}?q={term}" for term in ("canary", "EAAB", "c4n4ry"))]
    while queue and len(seen) < max_links:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        yield url, response
        if response.status_code == 200:
            body = response.content.decode()
            links = [changelist + html.unescape(href) for href in _HREF.findall(body)]
            queue += sorted(links, key=lambda link: "o=" in link)
    add = _reverse("admin:{}_{}_add".format(*info))
    if add:
        yield add, client.get(add)
    objects = list(model_admin.get_queryset(_request_for(client))[:OBJECTS_PER_MODEL])
    for obj in objects:
        for view in ("change", "delete", "history"):
            url = _reverse("admin:{}_{}_{}".format(*info, view), quote(obj.pk))
            if url:
                yield url, client.get(url)
    if objects:
        # The bulk-delete confirmation lists the objects it would delete.
        yield (
            changelist + " (delete_selected)",
            client.post(
                changelist,
                {"action": "delete_selected", "_selected_action": [str(o.pk) for o in objects]},
            ),
        )
    for field_name in getattr(model_admin, "autocomplete_fields", ()):
        url = (
            f"/admin/autocomplete/?app_label={info[0]}&model_name={info[1]}"
            f"&field_name={field_name}&term="
        )
        yield url, client.get(url)
    if model is User:
        for obj in objects:
            url = reverse("admin:auth_user_password_change", args=[obj.pk])
            yield url, client.get(url)


def _request_for(client: Client) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(pk=client.session["_auth_user_id"])
    return request


def test_no_admin_page_renders_a_credential(admin_site_client: Client, canaries) -> None:
    leaks: list[str] = []
    walked: set[str] = set()
    for url, response in admin_pages(admin_site_client):
        walked.add(url)
        assert response.status_code in (200, 302, 403), (url, response.status_code)
        if response.status_code == 200:
            # Never framed by another site, never kept by a shared cache.
            assert response["X-Frame-Options"] == "DENY", url
            assert "private" in response["Cache-Control"], url
        leaks += canaries.leaks(response.content, url)
        leaks += canaries.leaks(str(response.headers), f"{url} headers")
    assert leaks == [], sorted({leak.split(": ")[0] for leak in leaks})

    # The walk reached the pages of the rows that hold the canaries, and searched and filtered.
    account = AdAccount.objects.get(name="Canary advertiser")
    holder = Token.objects.get(key=canaries.api_token).user
    for name, pk in [
        ("adaccounts_adaccount", account.pk),
        ("adaccounts_team", account.team_id),
        ("authtoken_tokenproxy", holder.pk),
        ("auth_user", holder.pk),
    ]:
        for view in ("change", "delete", "history"):
            assert reverse(f"admin:{name}_{view}", args=[quote(pk)]) in walked, (name, view)
    changelist = reverse("admin:adaccounts_adaccount_changelist")
    assert {changelist + "?q=EAAB", changelist + "?status__exact=ACTIVE"} <= walked
    assert len(walked) > 100, len(walked)


def test_the_walk_would_see_a_rendered_credential(admin_site_client: Client, canaries) -> None:
    """The scanner finds a canary where a page shows one (a team name, here)."""
    team = Team.objects.filter(webhook_secret__isnull=False).get()
    Team.objects.filter(pk=team.pk).update(name=canaries.webhook_secret)
    url = reverse("admin:adaccounts_team_change", args=[team.pk])
    assert canaries.leaks(admin_site_client.get(url).content, url)


# --- Staff only ----------------------------------------------------------------------------------


def walked_urls(admin_site_client: Client) -> list[str]:
    return sorted(
        {
            url
            for url, _ in admin_pages(admin_site_client, max_links=8)
            if " " not in url and not url.startswith("/admin/autocomplete/")
        }
    )


@pytest.mark.parametrize("who", ["anonymous", "active non-staff user"])
def test_every_admin_url_sends_others_to_the_login_page(
    admin_site_client: Client, canaries, who: str
) -> None:
    urls = walked_urls(admin_site_client)
    assert len(urls) > 50
    client = Client()
    if who != "anonymous":
        client.force_login(UserFactory(is_staff=False, is_superuser=False))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        location = urlsplit(response["Location"])
        assert location.path == "/admin/login/", (url, response["Location"])
        assert not canaries.leaks(response.content, url)


@pytest.mark.parametrize("who", ["anonymous", "active non-staff user"])
def test_others_cannot_post_to_the_admin(who: str) -> None:
    account = AdAccountFactory(name="Unchanged")
    client = Client()
    if who != "anonymous":
        client.force_login(UserFactory(is_staff=False))
    url = reverse("admin:adaccounts_adaccount_change", args=[account.pk])
    response = client.post(url, {"name": "Changed", "_save": "Save"})
    assert response.status_code == 302 and urlsplit(response["Location"]).path == "/admin/login/"
    assert AdAccount.objects.get(pk=account.pk).name == "Unchanged"


@pytest.mark.parametrize(
    "flags",
    [
        {"is_staff": False, "is_active": True},
        {"is_staff": False, "is_active": True, "is_superuser": True},
        {"is_staff": True, "is_active": False},
    ],
)
def test_only_active_staff_can_log_in(flags: dict[str, bool]) -> None:
    user = make_user(**flags)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200  # the form again, not a redirect into the admin
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_active_staff_logs_in() -> None:
    user = make_user(is_staff=True)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# --- CSRF ----------------------------------------------------------------------------------------


def csrf_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def change_form(account: AdAccount, **extra: str) -> dict[str, str]:
    return {
        "platform_account_id": account.platform_account_id,
        "name": "Renamed",
        "team": str(account.team_id),
        "owner_user": "",
        "status": account.status,
        "additional_config": "{}",
        "initial-additional_config": "{}",
        "access_token": "",
        "app_secret": "",
        "_save": "Save",
        **extra,
    }


def test_a_change_form_post_without_the_csrf_token_is_refused(superuser) -> None:
    account = AdAccountFactory(name="Before", credentials={"access_token": "EAAB-x"})
    client = csrf_client(superuser)
    url = reverse("admin:adaccounts_adaccount_change", args=[account.pk])

    refused = client.post(url, change_form(account))
    assert refused.status_code == 403
    assert AdAccount.objects.get(pk=account.pk).name == "Before"

    # The same post with the form's token goes through: the 403 was the CSRF check.
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(url).content.decode()
    )
    assert token is not None
    accepted = client.post(url, change_form(account, csrfmiddlewaretoken=token.group(1)))
    assert accepted.status_code == 302, accepted.content[:2000]
    assert AdAccount.objects.get(pk=account.pk).name == "Renamed"


@pytest.mark.parametrize("name", ["adaccounts_team", "campaigns_campaignjob", "auth_user"])
def test_actions_and_deletes_without_the_csrf_token_are_refused(superuser, name: str) -> None:
    TeamFactory()
    client = csrf_client(superuser)
    changelist = reverse(f"admin:{name}_changelist")
    response = client.post(changelist, {"action": "delete_selected", "_selected_action": ["x"]})
    assert response.status_code == 403


def test_login_and_logout_need_the_csrf_token(superuser) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": superuser.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    client.force_login(superuser)
    assert client.post("/admin/logout/").status_code == 403
    assert client.get("/admin/").status_code == 200  # still logged in


# --- API tokens ----------------------------------------------------------------------------------


def test_api_tokens_are_listed_by_user_and_revoked_without_their_key(
    admin_site_client: Client,
) -> None:
    caller = make_caller()
    key = caller.token
    changelist = reverse("admin:authtoken_tokenproxy_changelist")
    listing = admin_site_client.get(changelist)
    assert caller.user.username in listing.content.decode()
    assert key not in listing.content.decode()
    assert reverse("admin:authtoken_tokenproxy_add") not in listing.content.decode()

    delete = reverse("admin:authtoken_tokenproxy_delete", args=[caller.user.pk])
    confirm = admin_site_client.get(delete)
    assert f"API token of user {caller.user.pk}" in confirm.content.decode()
    assert key not in confirm.content.decode()
    assert admin_site_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Token.objects.filter(key=key).exists()
    assert caller.client.get("/api/v1/teams").status_code == 401  # the token is dead
