"""The Django admin that ops staff use to keep teams and ad accounts."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.test import Client

from adaccounts.forms import AdAccountAdminForm
from adaccounts.models import AdAccount, AdAccountStatus
from adaccounts.services import DUPLICATE_ACCOUNT_MESSAGE
from campaigns.models import CampaignJob
from tests.factories import AdAccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_CANARY = "EAAB-canary-token-5f1e0c9a"
SECRET_CANARY = "app-secret-canary-77d2b4"
NEW_TOKEN_CANARY = "EAAB-new-canary-token-31c8aa"

ADD_URL = "/admin/adaccounts/adaccount/add/"
CHANGELIST_URL = "/admin/adaccounts/adaccount/"


def change_url(account: AdAccount) -> str:
    return f"/admin/adaccounts/adaccount/{account.pk}/change/"


def add_form(team, **overrides: str) -> dict[str, str]:
    data = {
        "platform_type": "META",
        "platform_account_id": "123",
        "name": "Spring advertiser",
        "team": str(team.pk),
        "owner_user": "",
        "status": AdAccountStatus.ACTIVE,
        "additional_config": "{}",
        "access_token": TOKEN_CANARY,
        "app_secret": SECRET_CANARY,
        "_save": "Save",
    }
    data.update(overrides)
    return data


def change_form(account: AdAccount, **overrides: str) -> dict[str, str]:
    data = {
        "platform_account_id": account.platform_account_id,
        "name": account.name,
        "team": str(account.team_id),
        "owner_user": "",
        "status": account.status,
        "additional_config": "{}",
        # The admin renders this hidden input for fields with a callable default.
        "initial-additional_config": "{}",
        "access_token": "",
        "app_secret": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def raw_credentials(account: AdAccount) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM ad_accounts WHERE id = %s", [account.pk])
        (value,) = cursor.fetchone()
    return bytes(value) if not isinstance(value, str) else value.encode()


def form_errors(response) -> dict[str, list[str]]:
    return response.context["adminform"].form.errors


@pytest.fixture
def account() -> AdAccount:
    return AdAccountFactory(
        name="Canary Co",
        platform_account_id="act_555",
        credentials={"access_token": TOKEN_CANARY, "app_secret": SECRET_CANARY},
    )


# --- adding ---------------------------------------------------------------------------------


def test_it_adds_an_account_and_stores_the_token_encrypted(admin_client: Client) -> None:
    team = TeamFactory()

    response = admin_client.post(ADD_URL, add_form(team))

    assert response.status_code == 302, form_errors(response)
    account = AdAccount.objects.get()
    assert account.platform_account_id == "act_123"  # normalised by the Meta spec
    assert account.team == team
    assert account.credentials == {"access_token": TOKEN_CANARY, "app_secret": SECRET_CANARY}
    raw = raw_credentials(account)
    assert raw
    assert TOKEN_CANARY.encode() not in raw
    assert SECRET_CANARY.encode() not in raw
    assert response["Location"] == CHANGELIST_URL


def test_it_requires_an_access_token_when_adding_a_meta_account(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, add_form(TeamFactory(), access_token=""))

    assert response.status_code == 200
    assert "access_token" in form_errors(response)
    assert not AdAccount.objects.exists()


def test_it_shows_an_error_on_a_bad_platform_account_id_and_stores_nothing(
    admin_client: Client,
) -> None:
    response = admin_client.post(ADD_URL, add_form(TeamFactory(), platform_account_id="act_x1"))

    assert response.status_code == 200
    errors = form_errors(response)
    assert list(errors) == ["platform_account_id"]
    assert "act_" in errors["platform_account_id"][0]
    assert not AdAccount.objects.exists()
    # The re-displayed form does not carry the token it was sent.
    assert TOKEN_CANARY not in response.content.decode()


def test_it_shows_a_form_error_on_a_duplicate_account(admin_client: Client) -> None:
    AdAccountFactory(platform_account_id="act_123")

    response = admin_client.post(ADD_URL, add_form(TeamFactory(), platform_account_id="123"))

    assert response.status_code == 200
    assert form_errors(response)["platform_account_id"] == [DUPLICATE_ACCOUNT_MESSAGE]
    assert AdAccount.objects.count() == 1


def test_it_reports_a_duplicate_that_slips_past_the_form_check_without_a_500(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the other account was created between the form's check and the save.
    AdAccountFactory(platform_account_id="act_123")
    monkeypatch.setattr(AdAccountAdminForm, "_check_duplicate", lambda self, cleaned: None)

    response = admin_client.post(ADD_URL, add_form(TeamFactory()), follow=True)

    assert response.status_code == 200
    assert DUPLICATE_ACCOUNT_MESSAGE in response.content.decode()
    assert AdAccount.objects.count() == 1
    assert not LogEntry.objects.exists()


def test_it_allows_the_id_of_a_deleted_account_again(admin_client: Client) -> None:
    AdAccountFactory(platform_account_id="act_123").soft_delete()

    response = admin_client.post(ADD_URL, add_form(TeamFactory()))

    assert response.status_code == 302, form_errors(response)
    assert AdAccount.objects.live().get().platform_account_id == "act_123"


# --- changing -------------------------------------------------------------------------------


def test_it_keeps_the_credentials_when_the_token_fields_are_left_blank(
    admin_client: Client, account: AdAccount
) -> None:
    response = admin_client.post(change_url(account), change_form(account, name="Renamed"))

    assert response.status_code == 302, form_errors(response)
    account.refresh_from_db()
    assert account.name == "Renamed"
    assert account.credentials == {"access_token": TOKEN_CANARY, "app_secret": SECRET_CANARY}
    assert LogEntry.objects.get().get_change_message() == "Changed Name."


def test_it_replaces_the_credentials_with_a_new_token(
    admin_client: Client, account: AdAccount
) -> None:
    response = admin_client.post(
        change_url(account), change_form(account, access_token=NEW_TOKEN_CANARY)
    )

    assert response.status_code == 302, form_errors(response)
    account.refresh_from_db()
    assert account.credentials == {"access_token": NEW_TOKEN_CANARY}
    assert NEW_TOKEN_CANARY.encode() not in raw_credentials(account)


def test_it_logs_a_credentials_change_without_the_values(
    admin_client: Client, account: AdAccount
) -> None:
    admin_client.post(change_url(account), change_form(account, access_token=NEW_TOKEN_CANARY))

    entry = LogEntry.objects.get(action_flag=CHANGE)
    assert entry.get_change_message() == "Changed credentials."
    assert NEW_TOKEN_CANARY not in entry.change_message
    assert NEW_TOKEN_CANARY not in entry.object_repr


def test_it_does_not_change_the_platform_of_an_existing_account(
    admin_client: Client, account: AdAccount
) -> None:
    response = admin_client.post(
        change_url(account), change_form(account, platform_type="GOOGLE_ADS")
    )

    assert response.status_code == 302, form_errors(response)
    account.refresh_from_db()
    assert account.platform_type == "META"


def test_it_normalises_a_changed_platform_account_id(
    admin_client: Client, account: AdAccount
) -> None:
    response = admin_client.post(
        change_url(account), change_form(account, platform_account_id="987")
    )

    assert response.status_code == 302, form_errors(response)
    account.refresh_from_db()
    assert account.platform_account_id == "act_987"


def test_it_refuses_an_owner_outside_the_accounts_team(
    admin_client: Client, account: AdAccount
) -> None:
    outsider = UserFactory()

    response = admin_client.post(
        change_url(account), change_form(account, owner_user=str(outsider.pk))
    )

    assert response.status_code == 200
    assert "owner_user" in form_errors(response)
    account.refresh_from_db()
    assert account.owner_user is None


# --- never rendering a token ----------------------------------------------------------------


def test_it_never_renders_a_token_on_any_admin_page(
    admin_client: Client, account: AdAccount
) -> None:
    # A change through the admin puts the credentials into the history as well.
    response = admin_client.post(
        change_url(account), change_form(account, access_token=NEW_TOKEN_CANARY)
    )
    assert response.status_code == 302, form_errors(response)

    pages = {
        "changelist": admin_client.get(CHANGELIST_URL),
        "search": admin_client.get(CHANGELIST_URL, {"q": "Canary"}),
        "change form": admin_client.get(change_url(account)),
        "history": admin_client.get(f"/admin/adaccounts/adaccount/{account.pk}/history/"),
        "delete confirmation": admin_client.get(
            f"/admin/adaccounts/adaccount/{account.pk}/delete/"
        ),
        "bulk delete confirmation": admin_client.post(
            CHANGELIST_URL, {"action": "delete_selected", "_selected_action": [str(account.pk)]}
        ),
        "team": admin_client.get(f"/admin/adaccounts/team/{account.team_id}/change/"),
    }

    for page, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, page
        assert "Canary Co" in html, page  # the account is really on the page
        for secret in (TOKEN_CANARY, SECRET_CANARY, NEW_TOKEN_CANARY):
            assert secret not in html, page
    assert "Changed credentials." in pages["history"].content.decode()


def test_it_shows_whether_an_account_has_credentials(
    admin_client: Client, account: AdAccount
) -> None:
    html = admin_client.get(change_url(account)).content.decode()

    assert 'name="access_token"' in html
    assert 'name="app_secret"' in html
    assert "Has credentials" in html
    assert 'alt="True"' in html


# --- deleting -------------------------------------------------------------------------------


def test_it_soft_deletes_an_account_from_its_delete_page(
    admin_client: Client, account: AdAccount
) -> None:
    delete_url = f"/admin/adaccounts/adaccount/{account.pk}/delete/"
    assert "Soft delete:" in admin_client.get(delete_url).content.decode()

    response = admin_client.post(delete_url, {"post": "yes"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.deleted_at is not None
    assert account.credentials  # the row is all there
    # Deleted once, it has no delete page any more.
    assert admin_client.get(delete_url).status_code == 403


def test_it_soft_deletes_an_account_that_has_jobs(admin_client: Client, account: AdAccount) -> None:
    # A hard delete would be refused (jobs protect their account); the jobs must stay.
    job = CampaignJob.objects.create(
        team=account.team, ad_account=account, platform_type=account.platform_type, payload={}
    )
    delete_url = f"/admin/adaccounts/adaccount/{account.pk}/delete/"
    assert str(job.pk) not in admin_client.get(delete_url).content.decode()

    response = admin_client.post(delete_url, {"post": "yes"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.deleted_at is not None
    assert CampaignJob.objects.filter(pk=job.pk, ad_account=account).exists()


def test_it_soft_deletes_selected_accounts_with_the_bulk_action(
    admin_client: Client, account: AdAccount
) -> None:
    other = AdAccountFactory()
    assert "Soft-delete selected ad accounts" in admin_client.get(CHANGELIST_URL).content.decode()

    response = admin_client.post(
        CHANGELIST_URL,
        {"action": "delete_selected", "_selected_action": [str(account.pk)], "post": "yes"},
    )

    assert response.status_code == 302
    assert AdAccount.objects.count() == 2
    assert list(AdAccount.objects.live()) == [other]


def test_it_lists_deleted_accounts_marked_and_filters_them(
    admin_client: Client, account: AdAccount
) -> None:
    live = AdAccountFactory(name="Still here")
    account.soft_delete()

    everything = admin_client.get(CHANGELIST_URL).context["cl"].result_list
    live_only = admin_client.get(CHANGELIST_URL, {"deleted": "no"}).context["cl"].result_list
    deleted_only = admin_client.get(CHANGELIST_URL, {"deleted": "yes"}).context["cl"].result_list

    assert set(everything) == {account, live}
    assert list(live_only) == [live]
    assert list(deleted_only) == [account]


# --- teams ----------------------------------------------------------------------------------


def test_it_lists_team_members_and_counts_on_the_team_pages(admin_client: Client) -> None:
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    team = TeamFactory(name="Growth", members=[alice, bob])
    AdAccountFactory(team=team, name="Growth main")
    AdAccountFactory(team=team).soft_delete()

    changelist = admin_client.get("/admin/adaccounts/team/")
    change = admin_client.get(f"/admin/adaccounts/team/{team.pk}/change/")

    (row,) = changelist.context["cl"].result_list
    assert (row.name, row.member_count, row.ad_account_count) == ("Growth", 2, 1)
    html = change.content.decode()
    assert f'<option value="{alice.pk}" selected>alice</option>' in html
    assert f'<option value="{bob.pk}" selected>bob</option>' in html
    assert "Growth main" in html
