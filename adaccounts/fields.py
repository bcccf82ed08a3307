"""An encrypted JSON object column (Fernet, keys from `FERNET_KEYS`, newest first)."""

from __future__ import annotations

import json
from typing import Any

from fernet_fields import EncryptedTextField


class EncryptedJSONField(EncryptedTextField):
    """Stores a dict as Fernet ciphertext; reads it back as a dict.

    Encryption happens in `get_db_prep_save`, after `get_prep_value` has turned the dict into
    JSON text, so the plaintext never reaches the database or its query log.
    """

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(value, sort_keys=True)

    def value_to_string(self, obj: Any) -> str:
        # Serialisation (dumpdata, admin history) never sees the secret.
        return ""


class EncryptedSecretField(EncryptedTextField):
    """A secret string (a team's webhook secret) as Fernet ciphertext; None when there is none.
    Serialisation (dumpdata, admin history) never sees it."""

    def value_to_string(self, obj: Any) -> str:
        return ""
