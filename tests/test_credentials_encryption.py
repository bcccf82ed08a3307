"""Credentials are Fernet ciphertext at rest, readable through the model, and keys rotate."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from cryptography.fernet import InvalidToken
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from adaccounts.models import AdAccount
from tests.factories import AdAccountFactory

pytestmark = pytest.mark.django_db

_CACHED_KEY_PROPERTIES = ("keys", "fernet_keys", "fernet")


def _forget_cached_keys() -> None:
    # fernet_fields reads FERNET_KEYS once per field (cached_property); drop the cache so the
    # next encrypt/decrypt sees the keys of the current settings.
    field_dict = AdAccount._meta.get_field("credentials").__dict__
    for name in _CACHED_KEY_PROPERTIES:
        field_dict.pop(name, None)


@contextmanager
def fernet_keys(*keys: str) -> Iterator[None]:
    """Run the block with FERNET_KEYS set to `keys`, newest first."""
    _forget_cached_keys()
    try:
        with override_settings(FERNET_KEYS=list(keys)):
            _forget_cached_keys()
            try:
                yield
            finally:
                _forget_cached_keys()
    finally:
        _forget_cached_keys()


@pytest.fixture(autouse=True)
def _isolated_key_cache() -> Iterator[None]:
    # Neither this module's key juggling nor an earlier test's leaves keys on the field.
    _forget_cached_keys()
    yield
    _forget_cached_keys()


def raw_credentials(account: AdAccount) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM ad_accounts WHERE id = %s", [account.pk])
        (value,) = cursor.fetchone()
    return bytes(value)


def encodings(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw)]


def test_the_raw_column_holds_ciphertext_not_the_token(caller):
    token = "EAAB-raw-column-check-0123456789"
    response = caller.client.post(
        "/api/v1/ad_accounts",
        {
            "platform_account_id": "act_1",
            "name": "Raw",
            "platform_type": "META",
            "credentials": {"access_token": token, "app_secret": "raw-app-secret"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    account = AdAccount.objects.get()

    raw = raw_credentials(account)

    assert raw.startswith(b"gAAAAA")  # a Fernet token (version byte 0x80, base64url)
    for needle in (*encodings(token), *encodings("raw-app-secret"), b"access_token"):
        assert needle not in raw
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM ad_accounts t WHERE id = %s", [account.pk])
        (row_text,) = cursor.fetchone()
    for needle in (*encodings(token), *encodings("raw-app-secret")):
        assert needle.decode() not in row_text


def test_reading_through_the_model_decrypts(caller):
    account = AdAccountFactory(
        team=caller.team, credentials={"access_token": "EAAB-readable", "app_secret": "s3"}
    )

    assert AdAccount.objects.get(pk=account.pk).credentials == {
        "access_token": "EAAB-readable",
        "app_secret": "s3",
    }
    assert b"EAAB-readable" not in raw_credentials(account)


def test_two_writes_of_the_same_credentials_differ_at_rest(caller):
    one = AdAccountFactory(team=caller.team, credentials={"access_token": "same"})
    two = AdAccountFactory(team=caller.team, credentials={"access_token": "same"})

    # Fernet uses a fresh IV per write, so equal secrets cannot be spotted by equal bytes.
    assert raw_credentials(one) != raw_credentials(two)


def test_a_row_written_under_one_key_is_unreadable_under_another(db):
    with fernet_keys("key-A"):
        account = AdAccountFactory(credentials={"access_token": "EAAB-under-A"})

    with fernet_keys("key-B"), pytest.raises(InvalidToken):
        AdAccount.objects.get(pk=account.pk)


def test_keys_rotate_without_losing_credentials(db):
    with fernet_keys("A"):
        account = AdAccountFactory(credentials={"access_token": "EAAB-rotate-me"})
        deleted = AdAccountFactory(credentials={"access_token": "EAAB-deleted-one"})
        deleted.soft_delete()
        before = raw_credentials(account)

    # The new key goes first; rows written under the old one still read.
    with fernet_keys("B", "A"):
        assert AdAccount.objects.get(pk=account.pk).credentials == {
            "access_token": "EAAB-rotate-me"
        }
        out = StringIO()
        call_command("rotate_credentials", stdout=out)
        assert re.search(r"\b2\b", out.getvalue()), out.getvalue()

    after = raw_credentials(account)
    assert after != before
    assert b"EAAB-rotate-me" not in after

    # The old key can now be dropped: every row, soft-deleted ones included, reads under B.
    with fernet_keys("B"):
        assert AdAccount.objects.get(pk=account.pk).credentials == {
            "access_token": "EAAB-rotate-me"
        }
        assert AdAccount.objects.get(pk=deleted.pk).credentials == {
            "access_token": "EAAB-deleted-one"
        }

    # And the old key alone no longer opens them.
    with fernet_keys("A"), pytest.raises(InvalidToken):
        AdAccount.objects.get(pk=account.pk)


def test_rotation_keeps_updated_at(db):
    with fernet_keys("A"):
        account = AdAccountFactory(credentials={"access_token": "EAAB-ts"})
        updated_at = AdAccount.objects.get(pk=account.pk).updated_at

    with fernet_keys("B", "A"):
        call_command("rotate_credentials", stdout=StringIO())

    with fernet_keys("B"):
        assert AdAccount.objects.get(pk=account.pk).updated_at == updated_at


def test_writes_after_rotation_use_the_newest_key(db):
    with fernet_keys("B", "A"):
        account = AdAccountFactory(credentials={"access_token": "EAAB-new-write"})

    with fernet_keys("B"):
        assert AdAccount.objects.get(pk=account.pk).credentials == {
            "access_token": "EAAB-new-write"
        }
    with fernet_keys("A"), pytest.raises(InvalidToken):
        AdAccount.objects.get(pk=account.pk)
