"""Ad account writes that race with the job engine and with each other lose nothing.

A worker marks an account REQUIRES_REAUTH only for the credentials its run used; key rotation,
API and admin updates write only what they mean to write; a soft delete is announced.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import pre_save
from django.test import Client

from adaccounts import services
from adaccounts.models import AdAccount, AdAccountStatus
from adaccounts.signals import ad_account_deleted, ad_account_reactivated
from platforms.base import VerifyResult
from tests.factories import AdAccountFactory, TeamFactory
from tests.test_credentials_encryption import fernet_keys

pytestmark = pytest.mark.django_db

OLD_TOKEN = "EAAB-old-token-3c1f9e"
NEW_TOKEN = "EAAB-new-token-8a72d4"


def stored(account: AdAccount) -> AdAccount:
    return AdAccount.objects.get(pk=account.pk)


@pytest.fixture
def account() -> AdAccount:
    return AdAccountFactory(credentials={"access_token": OLD_TOKEN})


# --- credentials_version ---------------------------------------------------------------------


def test_a_new_account_starts_at_credentials_version_1(account):
    assert stored(account).credentials_version == 1


def test_setting_credentials_bumps_the_version(account):
    services.ad_account_update(account=account, credentials={"access_token": NEW_TOKEN})

    assert account.credentials_version == 2
    assert stored(account).credentials_version == 2
    assert stored(account).credentials == {"access_token": NEW_TOKEN}


def test_an_update_without_credentials_keeps_the_version(account):
    services.ad_account_update(account=account, name="Renamed", status=AdAccountStatus.INACTIVE)

    assert stored(account).credentials_version == 1


def test_the_bump_counts_from_the_stored_version_not_the_loaded_one(account):
    stale = stored(account)
    services.ad_account_update(account=account, credentials={"access_token": "EAAB-2"})

    services.ad_account_update(account=stale, credentials={"access_token": "EAAB-3"})

    assert stored(account).credentials_version == 3


def test_patching_credentials_through_the_api_bumps_the_version(caller):
    account = AdAccountFactory(team=caller.team)

    response = caller.client.patch(
        f"/api/v1/ad_accounts/{account.pk}",
        {"credentials": {"access_token": NEW_TOKEN}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert "credentials_version" not in response.json()
    assert stored(account).credentials_version == 2


def test_a_put_without_credentials_keeps_the_version(caller):
    account = AdAccountFactory(team=caller.team, platform_account_id="act_42")

    response = caller.client.put(
        f"/api/v1/ad_accounts/{account.pk}",
        {
            "platform_account_id": "act_42",
            "name": "Replaced",
            "platform_type": "META",
            "status": "ACTIVE",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert stored(account).credentials_version == 1


def _admin_change_form(account: AdAccount, **overrides: str) -> dict[str, str]:
    data = {
        "platform_account_id": account.platform_account_id,
        "name": account.name,
        "team": str(account.team_id),
        "owner_user": "",
        "status": account.status,
        "additional_config": "{}",
        "initial-additional_config": "{}",
        "access_token": "",
        "app_secret": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_a_new_token_in_the_admin_bumps_the_version(admin_client: Client, account):
    response = admin_client.post(
        f"/admin/adaccounts/adaccount/{account.pk}/change/",
        _admin_change_form(account, access_token=NEW_TOKEN),
    )

    assert response.status_code == 302
    assert stored(account).credentials_version == 2
    assert stored(account).credentials == {"access_token": NEW_TOKEN}


def test_the_admin_neither_shows_nor_takes_the_version(admin_client: Client, account):
    url = f"/admin/adaccounts/adaccount/{account.pk}/change/"

    page = admin_client.get(url).content.decode()
    response = admin_client.post(
        url, _admin_change_form(account, name="Renamed", credentials_version="99")
    )

    assert 'name="credentials_version"' not in page
    assert OLD_TOKEN not in page
    assert response.status_code == 302
    assert stored(account).name == "Renamed"
    assert stored(account).credentials_version == 1


# --- ad_account_require_reauth ----------------------------------------------------------------


def test_a_dead_token_of_the_current_credentials_requires_reauth(account):
    version = stored(account).credentials_version
    updated_at = stored(account).updated_at

    changed = services.ad_account_require_reauth(account_id=account.pk, credentials_version=version)

    assert changed is True
    assert stored(account).status == AdAccountStatus.REQUIRES_REAUTH
    assert stored(account).updated_at > updated_at


def test_a_dead_token_of_replaced_credentials_leaves_the_account_active(account):
    version_of_the_run = stored(account).credentials_version
    # New credentials were set (and verified) while the slow run still used the old token.
    services.ad_account_update(account=account, credentials={"access_token": NEW_TOKEN})

    changed = services.ad_account_require_reauth(
        account_id=account.pk, credentials_version=version_of_the_run
    )

    assert changed is False
    assert stored(account).status == AdAccountStatus.ACTIVE
    assert stored(account).credentials == {"access_token": NEW_TOKEN}


@pytest.mark.parametrize(
    "status", [AdAccountStatus.INACTIVE, AdAccountStatus.SUSPENDED, AdAccountStatus.REQUIRES_REAUTH]
)
def test_a_dead_token_leaves_an_account_that_is_not_active_as_it_is(status):
    account = AdAccountFactory(status=status)

    changed = services.ad_account_require_reauth(account_id=account.pk, credentials_version=1)

    assert changed is False
    assert stored(account).status == status


def test_a_dead_token_leaves_a_deleted_account_as_it_is(account):
    account.soft_delete()

    changed = services.ad_account_require_reauth(account_id=account.pk, credentials_version=1)

    assert changed is False
    assert stored(account).status == AdAccountStatus.ACTIVE


def test_requiring_reauth_warns_without_the_credentials(account, caplog):
    caplog.set_level(logging.INFO, logger="adaccounts.services")

    services.ad_account_require_reauth(account_id=account.pk, credentials_version=1)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"Account {account.pk} requires re-authentication"
    ]
    assert OLD_TOKEN not in caplog.text


def test_a_stale_dead_token_is_only_an_info_line(account, caplog):
    services.ad_account_update(account=account, credentials={"access_token": NEW_TOKEN})
    caplog.set_level(logging.INFO, logger="adaccounts.services")

    services.ad_account_require_reauth(account_id=account.pk, credentials_version=1)

    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "status left as is" in caplog.text
    assert OLD_TOKEN not in caplog.text
    assert NEW_TOKEN not in caplog.text


# --- key rotation ----------------------------------------------------------------------------


class OtherConnection:
    """Runs `work` in a thread, so on its own database connection (and its own transaction)."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self._work = work
        self._failures: list[BaseException] = []
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self.backend_pid: int | None = None

    def _run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (self.backend_pid,) = cursor.fetchone()
            self._connected.set()
            self._work()
        except BaseException as exc:  # re-raised in the test's thread by join()
            self._failures.append(exc)
        finally:
            self._connected.set()
            connection.close()

    def start(self) -> OtherConnection:
        self._thread.start()
        self._connected.wait(timeout=10)
        return self

    def join(self) -> None:
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the other connection is still blocked"
        if self._failures:
            raise self._failures[0]

    def wait_until_blocked(self) -> None:
        """Until PostgreSQL reports this connection waiting for a lock another one holds."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT cardinality(pg_blocking_pids(%s))", [self.backend_pid])
                (blockers,) = cursor.fetchone()
            if blockers:
                return
            assert self._thread.is_alive(), "the other connection finished without waiting"
            time.sleep(0.01)
        raise AssertionError("the other connection never waited for a lock")


def replace_credentials(account_id: Any) -> Callable[[], Any]:
    return lambda: services.ad_account_update(
        account=AdAccount.objects.get(pk=account_id), credentials={"access_token": NEW_TOKEN}
    )


@pytest.mark.django_db(transaction=True)
def test_rotation_keeps_credentials_changed_while_it_runs():
    with fernet_keys("A"):
        first = AdAccountFactory(credentials={"access_token": "EAAB-first"})
        second = AdAccountFactory(credentials={"access_token": "EAAB-second"})

    def change_the_other_account(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('UPDATE "ad_accounts"') and not changed:
            # Rotation has rewritten its first account; before it reaches the other one, a
            # person replaces that one's credentials, and commits.
            rotated = first.pk if first.pk in params else second.pk
            other = second if rotated == first.pk else first
            changed.append(other)
            OtherConnection(replace_credentials(other.pk)).start().join()
        return result

    changed: list[AdAccount] = []
    with fernet_keys("B", "A"), connection.execute_wrapper(change_the_other_account):
        assert services.ad_account_credentials_rotate() == 2

    assert len(changed) == 1
    (other,) = changed
    rotated = first if other == second else second
    # The old key is gone: every row reads under the new one alone, the change included.
    with fernet_keys("B"):
        assert stored(other).credentials == {"access_token": NEW_TOKEN}
        assert stored(rotated).credentials == rotated.credentials
        assert stored(other).credentials_version == 2
        assert stored(rotated).credentials_version == 1


@pytest.mark.django_db(transaction=True)
def test_a_credentials_change_waits_for_the_rotation_of_its_row_and_then_wins():
    with fernet_keys("A"):
        account = AdAccountFactory(credentials={"access_token": OLD_TOKEN})

    def change_the_locked_row(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("SELECT") and '"ad_accounts"."id" = ' in sql and not others:
            # Rotation has read the row to rewrite it; a person's change of that row must now
            # wait for rotation's commit, not slip in between its read and its write.
            others.append(OtherConnection(replace_credentials(account.pk)).start())
            others[0].wait_until_blocked()
        return result

    others: list[OtherConnection] = []
    with fernet_keys("B", "A"):
        with connection.execute_wrapper(change_the_locked_row):
            services.ad_account_credentials_rotate()
        assert len(others) == 1
        others[0].join()

    with fernet_keys("B"):
        assert stored(account).credentials == {"access_token": NEW_TOKEN}
        assert stored(account).credentials_version == 2


@pytest.mark.django_db(transaction=True)
def test_rotation_does_not_bump_the_credentials_version():
    with fernet_keys("A"):
        account = AdAccountFactory(credentials={"access_token": OLD_TOKEN})

    with fernet_keys("B", "A"):
        services.ad_account_credentials_rotate()

    with fernet_keys("B"):
        assert stored(account).credentials == {"access_token": OLD_TOKEN}
        assert stored(account).credentials_version == 1


# --- updates write only what they change -----------------------------------------------------


def mark_requires_reauth(account: AdAccount) -> None:
    """What a worker does on a dead token: a queryset update, not through anyone's instance."""
    AdAccount.objects.filter(pk=account.pk).update(status=AdAccountStatus.REQUIRES_REAUTH)


@pytest.fixture
def reactivations() -> Iterator[list[Any]]:
    sent: list[Any] = []

    def receiver(sender: object, account_id: Any, **kwargs: object) -> None:
        sent.append(account_id)

    ad_account_reactivated.connect(receiver)
    yield sent
    ad_account_reactivated.disconnect(receiver)


@pytest.fixture
def just_before_the_save() -> Iterator[Callable[[Callable[[AdAccount], None]], None]]:
    """Run a change on the row after the account was loaded, right before it is saved (once),
    as a worker or another person committing in between would."""
    pending: list[Callable[[AdAccount], None]] = []

    def receiver(sender: object, instance: AdAccount, **kwargs: object) -> None:
        while pending:
            pending.pop()(instance)

    pre_save.connect(receiver, sender=AdAccount)
    yield pending.append
    pre_save.disconnect(receiver, sender=AdAccount)


def test_renaming_a_stale_instance_keeps_the_status_a_worker_set(account):
    stale = stored(account)
    mark_requires_reauth(account)

    returned = services.ad_account_update(account=stale, name="Renamed")

    assert stored(account).status == AdAccountStatus.REQUIRES_REAUTH
    assert stored(account).name == "Renamed"
    # What the caller gets back is the row as stored, not the stale status.
    assert returned.status == AdAccountStatus.REQUIRES_REAUTH


def test_patching_the_name_keeps_the_status_a_worker_set_meanwhile(caller, just_before_the_save):
    account = AdAccountFactory(team=caller.team)
    just_before_the_save(mark_requires_reauth)

    response = caller.client.patch(
        f"/api/v1/ad_accounts/{account.pk}", {"name": "Renamed"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"
    assert response.json()["status"] == "REQUIRES_REAUTH"
    assert stored(account).status == AdAccountStatus.REQUIRES_REAUTH
    assert stored(account).name == "Renamed"


def test_patching_the_name_keeps_a_team_change_made_meanwhile(caller, just_before_the_save):
    account = AdAccountFactory(team=caller.team)
    other_team = TeamFactory(members=[caller.user])
    just_before_the_save(
        lambda instance: AdAccount.objects.filter(pk=instance.pk).update(team=other_team)
    )

    response = caller.client.patch(
        f"/api/v1/ad_accounts/{account.pk}", {"name": "Renamed"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["team_id"] == str(other_team.pk)
    assert stored(account).team == other_team


def test_reactivating_a_stale_instance_announces_it(
    account, reactivations, django_capture_on_commit_callbacks
):
    stale = stored(account)  # loaded ACTIVE
    mark_requires_reauth(account)

    with django_capture_on_commit_callbacks(execute=True):
        services.ad_account_update(account=stale, status=AdAccountStatus.ACTIVE)

    assert stored(account).status == AdAccountStatus.ACTIVE
    assert reactivations == [account.pk]


def test_setting_active_on_an_account_already_active_announces_nothing(
    reactivations, django_capture_on_commit_callbacks
):
    account = AdAccountFactory(status=AdAccountStatus.REQUIRES_REAUTH)
    stale = stored(account)  # loaded REQUIRES_REAUTH
    AdAccount.objects.filter(pk=account.pk).update(status=AdAccountStatus.ACTIVE)

    with django_capture_on_commit_callbacks(execute=True):
        services.ad_account_update(account=stale, status=AdAccountStatus.ACTIVE)

    assert reactivations == []


def test_an_update_that_does_not_touch_the_status_announces_nothing(
    reactivations, django_capture_on_commit_callbacks
):
    account = AdAccountFactory(status=AdAccountStatus.REQUIRES_REAUTH)

    with django_capture_on_commit_callbacks(execute=True):
        services.ad_account_update(account=account, name="Renamed")

    assert reactivations == []
    assert stored(account).status == AdAccountStatus.REQUIRES_REAUTH


def test_an_update_to_a_live_duplicate_id_is_refused_and_changes_nothing(account):
    AdAccountFactory(platform_account_id="act_777")
    before = stored(account)

    with pytest.raises(ValidationError) as excinfo:
        services.ad_account_update(account=account, platform_account_id="act_777", name="Renamed")

    assert excinfo.value.message_dict == {
        "platform_account_id": [services.DUPLICATE_ACCOUNT_MESSAGE]
    }
    assert stored(account).platform_account_id == before.platform_account_id
    assert stored(account).name == before.name


# --- soft delete is announced ----------------------------------------------------------------


@pytest.fixture
def deletions() -> Iterator[list[Any]]:
    sent: list[Any] = []

    def receiver(sender: object, account_id: Any, **kwargs: object) -> None:
        sent.append(account_id)

    ad_account_deleted.connect(receiver)
    yield sent
    ad_account_deleted.disconnect(receiver)


def test_a_soft_delete_is_announced_once_after_commit(
    account, deletions, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.ad_account_delete(account=account)
        assert deletions == []  # not before the commit: the row may still roll back

    assert deletions == [account.pk]
    assert stored(account).is_deleted


def test_deleting_through_the_api_announces_the_account(
    caller, deletions, django_capture_on_commit_callbacks
):
    account = AdAccountFactory(team=caller.team)

    with django_capture_on_commit_callbacks(execute=True):
        response = caller.client.delete(f"/api/v1/ad_accounts/{account.pk}")

    assert response.status_code == 204
    assert deletions == [account.pk]


def test_a_rolled_back_delete_announces_nothing(
    account, deletions, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.ad_account_delete(account=account)
        raise RuntimeError("rolled back")

    assert deletions == []
    assert not stored(account).is_deleted


def test_deleting_an_account_already_deleted_announces_nothing_again(
    account, deletions, django_capture_on_commit_callbacks
):
    stale = stored(account)
    with django_capture_on_commit_callbacks(execute=True):
        services.ad_account_delete(account=account)
    deleted_at = stored(account).deleted_at

    with django_capture_on_commit_callbacks(execute=True):
        services.ad_account_delete(account=stale)

    assert deletions == [account.pk]
    assert stored(account).deleted_at == deleted_at


# --- a verify answer about replaced credentials changes nothing ---------------------------------


@pytest.mark.django_db
def test_a_verify_of_the_old_token_leaves_credentials_set_meanwhile_alone(account, monkeypatch):
    def platform_that_answers_late(*, platform_account_id: str, credentials: dict) -> Any:
        # While the platform looked at the old token, ops set new credentials.
        services.ad_account_update(
            account=AdAccount.objects.get(pk=account.pk), credentials={"access_token": "new"}
        )
        return VerifyResult(verified=False, usable=False, credentials_invalid=True)

    monkeypatch.setattr(services, "get_verifier", lambda platform_type: platform_that_answers_late)

    services.ad_account_verify(account=account)

    assert stored(account).status == AdAccountStatus.ACTIVE
    assert stored(account).credentials == {"access_token": "new"}
